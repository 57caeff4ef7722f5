import { useState, type FormEvent, type ReactNode } from 'react';
import { call, download } from '../api/client';
import type { ApiError } from '../api/problem';
import type { Ticket } from '../api/types';
import { useSignedIn } from '../core/context';
import { PagedTable } from '../core/list';
import { CheckField, ErrorView, Link, SelectField, TextField, useLoad, usePaged } from '../core/ui';
import { useStrings, useFormatDate } from '../i18n';

type Category = 'new' | 'indeterminate' | 'done';
type Priority = 'critical' | 'high' | 'medium' | 'low';

interface Filters {
  statusCategory?: Category;
  typeId?: string;
  priority?: Priority;
  reporter?: string;
  q?: string;
  sort: 'created' | 'updated';
}

/**
 * Tickets lists a project's tickets, or every visible one, with the spec's filters and cursor paging.
 * toolbar (e.g. the portal's "Open ticket") goes under the heading, above the filters.
 */
export function Tickets({ projectId, embedded, toolbar }: { projectId?: string; embedded?: boolean; toolbar?: ReactNode }) {
  const strings = useStrings();
  const t = strings.tickets;
  const formatDate = useFormatDate();
  const { api, me } = useSignedIn();
  const [draft, setDraft] = useState({ statusCategory: '', typeId: '', priority: '', mine: false, q: '', sort: 'created' });
  const [filters, setFilters] = useState<Filters>({ sort: 'created' });
  const types = useLoad(() => call(api.GET('/ticket-types', { params: { query: { limit: 200 } } })), [api]);
  const paged = usePaged<Ticket>(
    (cursor) => {
      const query = { ...filters, cursor };
      return projectId
        ? call(api.GET('/projects/{projectId}/tickets', { params: { path: { projectId }, query } }))
        : call(api.GET('/tickets', { params: { query } }));
    },
    [api, projectId, JSON.stringify(filters)],
  );
  const apply = (e: FormEvent) => {
    e.preventDefault();
    setFilters({
      statusCategory: (draft.statusCategory || undefined) as Category | undefined,
      typeId: draft.typeId || undefined,
      priority: (draft.priority || undefined) as Priority | undefined,
      reporter: draft.mine ? 'me' : undefined,
      q: draft.q.trim() || undefined,
      sort: draft.sort as Filters['sort'],
    });
  };
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<ApiError | null>(null);
  // Exports what the list shows: the applied filters, every page, as the server's CSV.
  const exportCsv = async () => {
    setExporting(true);
    setExportError(null);
    try {
      await download(
        api.GET('/tickets/export', { params: { query: { ...filters, project: projectId } }, parseAs: 'blob' }),
        'tickets.csv',
      );
    } catch (e) {
      setExportError(e as ApiError);
    } finally {
      setExporting(false);
    }
  };
  const set = (k: keyof typeof draft) => (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [k]: e.target.value }));
  const typeName = (tk: Ticket) => tk.typeName ?? types.data?.items.find((x) => x.id === tk.typeId)?.name ?? strings.common.none;
  const Heading = embedded ? 'h4' : 'h2';
  return (
    <section aria-label={t.heading}>
      {!embedded && <Heading>{t.heading}</Heading>}
      {toolbar && <div className="cp-toolbar">{toolbar}</div>}
      <form role="search" aria-label={strings.common.filter} onSubmit={apply} className="cp-toolbar">
        <TextField label={t.searchLabel} type="search" value={draft.q} onChange={set('q')} />
        <SelectField label={t.category} value={draft.statusCategory} onChange={set('statusCategory')}>
          <option value="">{strings.common.any}</option>
          {(['new', 'indeterminate', 'done'] as const).map((c) => (
            <option key={c} value={c}>
              {t.categoryName(c)}
            </option>
          ))}
        </SelectField>
        <SelectField label={t.type} value={draft.typeId} onChange={set('typeId')}>
          <option value="">{strings.common.any}</option>
          {(types.data?.items ?? []).map((ty) => (
            <option key={ty.id} value={ty.id}>
              {ty.name}
            </option>
          ))}
        </SelectField>
        <SelectField label={t.priority} value={draft.priority} onChange={set('priority')}>
          <option value="">{strings.common.any}</option>
          {(['critical', 'high', 'medium', 'low'] as const).map((p) => (
            <option key={p} value={p}>
              {t.priorityName(p)}
            </option>
          ))}
        </SelectField>
        <SelectField label={t.sort} value={draft.sort} onChange={set('sort')}>
          <option value="created">{t.sortCreated}</option>
          <option value="updated">{t.sortUpdated}</option>
        </SelectField>
        <CheckField label={t.onlyMine} checked={draft.mine} onChange={(e) => setDraft((d) => ({ ...d, mine: e.target.checked }))} />
        <button type="submit" className="cp-button">
          {strings.common.filter}
        </button>
        <button type="button" className="cp-button" onClick={exportCsv} disabled={exporting} aria-busy={exporting}>
          {t.exportCsv}
        </button>
      </form>
      {exportError && <ErrorView error={exportError} />}
      <PagedTable
        paged={paged}
        label={t.tableLabel}
        empty={t.empty}
        rowKey={(tk) => tk.key}
        columns={[
          { header: t.key, cell: (tk) => <Link to={`#/tickets/${tk.key}`} className="cp-nowrap">{tk.key}</Link> },
          {
            header: t.summary,
            cell: (tk) => (
              <>
                {tk.summary}
                {tk.stale && (
                  <span className="cp-badge" title={t.stale}>
                    !
                  </span>
                )}
              </>
            ),
          },
          { header: t.status, cell: (tk) => t.statusName(tk.status) },
          { header: t.priority, cell: (tk) => t.priorityName(tk.priority) },
          { header: t.type, cell: typeName },
          { header: t.reporter, cell: (tk) => (tk.reporter.id === me.id ? `${tk.reporter.username} ✓` : tk.reporter.username) },
          { header: t.updated, cell: (tk) => formatDate(tk.updatedAt) },
        ]}
      />
    </section>
  );
}
