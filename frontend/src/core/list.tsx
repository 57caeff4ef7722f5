import { useState, type FormEvent, type ReactNode } from 'react';
import { useStrings } from '../i18n';
import { Empty, PagedFooter, TextField, type usePaged } from './ui';

type Paged<T> = ReturnType<typeof usePaged<T>>;

interface SearchBarProps {
  /** The label of the text field. */
  label: string;
  /** Called with the trimmed text when the form is submitted. */
  onSearch: (q: string) => void;
  /** More filter fields after the text field (their state is the caller's). */
  children?: ReactNode;
}

/**
 * useEditing is the state of a list screen whose rows open an edit form above the list: which
 * object is being edited ('new' for a new one, null for none) and the notice after a save.
 */
export function useEditing<T extends { name: string }>({ created, reload }: { created: (name: string) => string; reload: () => void }) {
  const strings = useStrings();
  const [editing, setEditing] = useState<string | 'new' | null>(null);
  const [notice, setNotice] = useState<string>();
  return {
    /** The form is open. */
    open: editing !== null,
    /** The id being edited; undefined for a new object (or none). */
    id: editing === null || editing === 'new' ? undefined : editing,
    notice,
    setNotice,
    start: (id: string | 'new') => {
      setNotice(undefined);
      setEditing(id);
    },
    cancel: () => setEditing(null),
    /** After a save: say what happened, close the form and read the list again. */
    done: (saved: T) => {
      setNotice(editing === 'new' ? created(saved.name) : strings.common.saved);
      setEditing(null);
      reload();
    },
  };
}

/** SearchBar is a search form: a text field, optional filters and a Search button. */
export function SearchBar({ label, onSearch, children }: SearchBarProps) {
  const strings = useStrings();
  const [q, setQ] = useState('');
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    onSearch(q.trim());
  };
  return (
    <form role="search" onSubmit={onSubmit} className="cp-toolbar">
      <TextField label={label} type="search" value={q} onChange={(e) => setQ(e.target.value)} />
      {children}
      <button type="submit" className="cp-button">
        {strings.common.search}
      </button>
    </form>
  );
}

export interface Column<T> {
  header: string;
  cell: (item: T) => ReactNode;
}

interface PagedTableProps<T> {
  paged: Paged<T>;
  /** The table's accessible name. */
  label: string;
  /** Said when the list is loaded and empty. */
  empty: string;
  rowKey: (item: T) => string;
  columns: (Column<T> | false | undefined)[];
  /** A row's action buttons, laid out in a toolbar inside the last cell; absent: no Actions column. */
  actions?: (item: T) => ReactNode;
  /** Names the group of a row's actions (role="group"), when the buttons alone do not say whose they are. */
  actionsLabel?: (item: T) => string;
}

/**
 * PagedTable shows a usePaged list as a table: "empty" once loaded with nothing, the rows
 * otherwise, and under it the loading, error and "Load more" states.
 */
export function PagedTable<T>({ paged, label, empty, rowKey, columns, actions, actionsLabel }: PagedTableProps<T>) {
  const strings = useStrings();
  const cols = columns.filter((c): c is Column<T> => Boolean(c));
  return (
    <>
      {!paged.loading && paged.error === undefined && paged.items.length === 0 && <Empty>{empty}</Empty>}
      {paged.items.length > 0 && (
        <div className="cp-table-wrap">
          <table aria-label={label}>
            <thead>
              <tr>
                {cols.map((c) => (
                  <th key={c.header} scope="col">
                    {c.header}
                  </th>
                ))}
                {actions && <th scope="col">{strings.common.actions}</th>}
              </tr>
            </thead>
            <tbody>
              {paged.items.map((x) => (
                <tr key={rowKey(x)}>
                  {cols.map((c) => (
                    <td key={c.header}>{c.cell(x)}</td>
                  ))}
                  {actions && (
                    <td>
                      <div className="cp-toolbar" role={actionsLabel ? 'group' : undefined} aria-label={actionsLabel?.(x)}>
                        {actions(x)}
                      </div>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <PagedFooter paged={paged} />
    </>
  );
}
