import {
  useCallback,
  useEffect,
  useId,
  useRef,
  useState,
  type InputHTMLAttributes,
  type MouseEvent,
  type ReactNode,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
} from 'react';
import { ApiError, describe, splitFieldErrors } from '../api/problem';
import type { Page } from '../api/types';
import { en, type Strings } from '../i18n/en';
import { formatDate as formatDateIn, useStrings } from '../i18n';
import { usePortal } from './context';

export function Loading({ label }: { label?: string }) {
  const strings = useStrings();
  return (
    <p className="cp-loading" role="status" aria-live="polite">
      {label ?? strings.common.loading}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="cp-empty">{children}</p>;
}

interface ErrorViewProps {
  error: unknown;
  onRetry?: () => void;
  /** Said instead of the generic sentence when the error is not an API error. */
  fallback?: string;
}

/** ErrorView says what went wrong in words and offers the one action that can help. */
export function ErrorView({ error, onRetry, fallback }: ErrorViewProps) {
  const api = error instanceof ApiError ? error : null;
  const strings = useStrings();
  const text = api ? describe(api, strings) : fallback ?? describe(error, strings);
  const portal = usePortalOptional();
  return (
    <div className="cp-error" role="alert">
      <p>{text}</p>
      {api?.status === 401 && portal && (
        <button type="button" className="cp-button cp-primary" onClick={() => void portal.auth.login()}>
          {strings.auth.signIn}
        </button>
      )}
      {onRetry && (!api || api.status === 503 || api.status === 0 || api.status >= 500 || api.status === 412) && (
        <button type="button" className="cp-button" onClick={onRetry}>
          {strings.common.retry}
        </button>
      )}
    </div>
  );
}

function usePortalOptional() {
  try {
    return usePortal();
  } catch {
    return null;
  }
}

/** useLoad runs an async read and exposes its state; reload runs it again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ loading: boolean; data?: T; error?: unknown }>({ loading: true });
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ loading: true, data: s.data }));
    load().then(
      (data) => live && setState({ loading: false, data }),
      (error) => live && setState({ loading: false, error }),
    );
    return () => {
      live = false;
    };
  }, [...deps, n]);
  const reload = useCallback(() => setN((x) => x + 1), []);
  const set = useCallback((data: T) => setState({ loading: false, data }), []);
  return { ...state, reload, set };
}

/** usePaged keeps the pages loaded so far and continues with the last nextCursor. */
export function usePaged<T>(loadPage: (cursor?: string) => Promise<Page<T>>, deps: unknown[]) {
  const [items, setItems] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | undefined>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>();
  const [n, setN] = useState(0);
  const gen = useRef(0);
  const loader = useRef(loadPage);
  loader.current = loadPage;

  useEffect(() => {
    const g = ++gen.current;
    setLoading(true);
    setError(undefined);
    setItems([]);
    setCursor(undefined);
    loader.current(undefined).then(
      (p) => {
        if (g !== gen.current) return;
        setItems(p.items);
        setCursor(p.nextCursor || undefined);
        setLoading(false);
      },
      (e) => {
        if (g !== gen.current) return;
        setError(e);
        setLoading(false);
      },
    );
  }, [...deps, n]);

  const loadMore = useCallback(() => {
    if (!cursor) return;
    const g = gen.current;
    setLoading(true);
    setError(undefined);
    loader.current(cursor).then(
      (p) => {
        if (g !== gen.current) return;
        setItems((xs) => [...xs, ...p.items]);
        setCursor(p.nextCursor || undefined);
        setLoading(false);
      },
      (e) => {
        if (g !== gen.current) return;
        setError(e);
        setLoading(false);
      },
    );
  }, [cursor]);

  const reload = useCallback(() => setN((x) => x + 1), []);
  return { items, setItems, loading, error, hasMore: Boolean(cursor), loadMore, reload };
}

/** PagedFooter shows the loading, error and "Load more" states under a list. */
export function PagedFooter({ paged, label }: { paged: ReturnType<typeof usePaged<any>>; label?: string }) {
  const strings = useStrings();
  return (
    <>
      {paged.loading && <Loading />}
      {paged.error !== undefined && <ErrorView error={paged.error} onRetry={paged.items.length ? paged.loadMore : paged.reload} />}
      {!paged.loading && paged.hasMore && paged.error === undefined && (
        <button type="button" className="cp-button" onClick={paged.loadMore}>
          {label ?? strings.common.loadMore}
        </button>
      )}
    </>
  );
}

/** Link is a real link to a hash route that first offers the navigation to the page (cp-navigate). */
export function Link({ to, children, className, current }: { to: string; children: ReactNode; className?: string; current?: boolean }) {
  const { emit } = usePortal();
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    if (!emit('cp-navigate', { path: to }, true)) e.preventDefault();
  };
  return (
    <a href={to} onClick={onClick} className={className} aria-current={current ? 'page' : undefined}>
      {children}
    </a>
  );
}

interface FieldBase {
  label: string;
  error?: string;
  hint?: string;
  required?: boolean;
}

function useFieldIds(error?: string, hint?: string) {
  const id = useId();
  const errId = `${id}-err`;
  const hintId = `${id}-hint`;
  const describedBy = [error ? errId : '', hint ? hintId : ''].filter(Boolean).join(' ') || undefined;
  return { id, errId, hintId, describedBy };
}

function FieldFrame({ ids, label, error, hint, required, children }: FieldBase & { ids: ReturnType<typeof useFieldIds>; children: ReactNode }) {
  const strings = useStrings();
  return (
    <div className={`cp-field${error ? ' cp-invalid' : ''}`}>
      <label htmlFor={ids.id}>
        {label}
        {required && <span className="cp-req"> {strings.common.required}</span>}
      </label>
      {children}
      {hint && (
        <p id={ids.hintId} className="cp-hint">
          {hint}
        </p>
      )}
      {error && (
        <p id={ids.errId} className="cp-field-error">
          {error}
        </p>
      )}
    </div>
  );
}

export function TextField({ label, error, hint, required, ...input }: FieldBase & Omit<InputHTMLAttributes<HTMLInputElement>, 'id'>) {
  const ids = useFieldIds(error, hint);
  return (
    <FieldFrame ids={ids} label={label} error={error} hint={hint} required={required}>
      <input id={ids.id} required={required} aria-invalid={error ? true : undefined} aria-describedby={ids.describedBy} {...input} />
    </FieldFrame>
  );
}

export function TextArea({ label, error, hint, required, ...input }: FieldBase & Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, 'id'>) {
  const ids = useFieldIds(error, hint);
  return (
    <FieldFrame ids={ids} label={label} error={error} hint={hint} required={required}>
      <textarea id={ids.id} required={required} aria-invalid={error ? true : undefined} aria-describedby={ids.describedBy} {...input} />
    </FieldFrame>
  );
}

export function SelectField({
  label,
  error,
  hint,
  required,
  children,
  ...input
}: FieldBase & Omit<SelectHTMLAttributes<HTMLSelectElement>, 'id'> & { children: ReactNode }) {
  const ids = useFieldIds(error, hint);
  return (
    <FieldFrame ids={ids} label={label} error={error} hint={hint} required={required}>
      <select id={ids.id} required={required} aria-invalid={error ? true : undefined} aria-describedby={ids.describedBy} {...input}>
        {children}
      </select>
    </FieldFrame>
  );
}

export function CheckField({ label, ...input }: { label: string } & Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'type'>) {
  const id = useId();
  return (
    <div className="cp-check">
      <input id={id} type="checkbox" {...input} />
      <label htmlFor={id}>{label}</label>
    </div>
  );
}

/**
 * useSubmit runs a form's request: it keeps the busy flag (a second click does nothing while the
 * first runs), splits problem+json field errors onto their fields and moves focus to the first
 * invalid field, or to the summary when no field matched.
 */
export function useSubmit(fields: readonly string[]) {
  const strings = useStrings();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const formRef = useRef<HTMLFormElement>(null);
  const busyRef = useRef(false);
  const split = splitFieldErrors(error, fields);

  useEffect(() => {
    if (error === undefined) return;
    const form = formRef.current;
    const target = form?.querySelector<HTMLElement>('[aria-invalid="true"]') ?? form?.querySelector<HTMLElement>('.cp-form-error');
    target?.focus();
  }, [error]);

  const run = useCallback(async (fn: () => Promise<void>) => {
    if (busyRef.current) return;
    busyRef.current = true;
    setBusy(true);
    setError(undefined);
    try {
      await fn();
    } catch (e) {
      setError(e);
    } finally {
      busyRef.current = false;
      setBusy(false);
    }
  }, []);

  const hasFieldErrors = Object.keys(split.byField).length > 0;
  const summary =
    error === undefined ? null : (
      <div className="cp-form-error" role="alert" tabIndex={-1}>
        {(!hasFieldErrors || split.rest.length > 0 || !(error instanceof ApiError) || !error.problem.errors?.length) && <p>{describe(error, strings)}</p>}
        {split.rest.length > 0 && (
          <ul>
            {split.rest.map((r) => (
              <li key={r}>{r}</li>
            ))}
          </ul>
        )}
      </div>
    );
  return { busy, error, setError, fieldErrors: split.byField, summary, formRef, run, clear: () => setError(undefined) };
}

/** Notice is a polite status message that takes focus so keyboard users hear the outcome. */
export function Notice({ children }: { children: ReactNode }) {
  const ref = useRef<HTMLParagraphElement>(null);
  useEffect(() => {
    ref.current?.focus();
  }, [children]);
  return (
    <p ref={ref} className="cp-notice" role="status" tabIndex={-1}>
      {children}
    </p>
  );
}

/** ConfirmButton asks once more inline before a destructive action (no blocking dialogs). */
export function ConfirmButton({ label, confirm, onConfirm, disabled }: { label: string; confirm: string; onConfirm: () => void; disabled?: boolean }) {
  const strings = useStrings();
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" className="cp-button cp-danger" disabled={disabled} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    <span className="cp-confirm" role="group" aria-label={confirm}>
      <span>{confirm}</span>{' '}
      <button
        type="button"
        className="cp-button cp-danger"
        autoFocus
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        {strings.common.yes}
      </button>{' '}
      <button type="button" className="cp-button" onClick={() => setAsking(false)}>
        {strings.common.no}
      </button>
    </span>
  );
}

/** formatDate is the English formatting; components use useFormatDate() from ../i18n for their locale. */
export function formatDate(iso?: string): string {
  return formatDateIn(iso, 'en');
}

/** opt drops empty strings so optional fields are omitted rather than sent blank. */
export function opt(v: string): string | undefined {
  const t = v.trim();
  return t ? t : undefined;
}

/** sentence starts a server message with a capital letter and ends it with a full stop. */
function sentence(s: string): string {
  const t = s.trim();
  if (!t) return t;
  const c = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(c) ? c : `${c}.`;
}

/** describeDelete words a refused delete: a 409 names what still depends on the object. */
export function describeDelete(err: unknown, strings: Strings = en): string {
  if (err instanceof ApiError && err.status === 409) {
    const why = err.problem.detail || err.problem.title;
    return why ? `${strings.common.deleteBlocked} ${sentence(why)}` : describe(err, strings);
  }
  return describe(err, strings);
}

/**
 * DeleteAction is a destructive button with an inline confirmation step. It runs the delete,
 * keeps the busy flag and shows a refusal (409 "still has projects") readably next to it.
 */
export function DeleteAction({ label, confirm, onDelete, onDeleted }: { label: string; confirm: string; onDelete: () => Promise<unknown>; onDeleted: () => void }) {
  const strings = useStrings();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const errRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (error !== undefined) errRef.current?.focus();
  }, [error]);
  const run = () => {
    if (busy) return;
    setBusy(true);
    setError(undefined);
    onDelete().then(
      () => {
        setBusy(false);
        onDeleted();
      },
      (e) => {
        setBusy(false);
        setError(e);
      },
    );
  };
  return (
    <div className="cp-delete">
      <ConfirmButton label={busy ? strings.common.deleting : label} confirm={confirm} onConfirm={run} disabled={busy} />
      {error !== undefined && (
        <div ref={errRef} className="cp-form-error" role="alert" tabIndex={-1}>
          <p>{describeDelete(error, strings)}</p>
        </div>
      )}
    </div>
  );
}

interface Back {
  to: string;
  label: string;
}

/**
 * NotFoundScreen stands in for a screen whose object is not there (or not visible): a heading,
 * the reason and a link back to the list. As an error (alert), the reason is announced at once.
 */
export function NotFoundScreen({ heading, text, back, alert = true }: { heading?: string; text?: string; back: Back; alert?: boolean }) {
  const strings = useStrings();
  const id = useId();
  return (
    <section aria-labelledby={id}>
      <h2 id={id}>{heading ?? strings.errors.notFoundHeading}</h2>
      <p className={alert ? 'cp-error' : undefined} role={alert ? 'alert' : undefined}>
        {text ?? strings.errors.notFound}
      </p>
      <p>
        <Link to={back.to}>{back.label}</Link>
      </p>
    </section>
  );
}

/**
 * Pending is what a screen shows until its object is read: Loading, the NotFoundScreen for a 404,
 * or the error with Retry.
 */
export function Pending({ load, back }: { load: { error?: unknown; reload: () => void }; back: Back }) {
  if (load.error === undefined) return <Loading />;
  if (load.error instanceof ApiError && load.error.status === 404) return <NotFoundScreen back={back} />;
  return <ErrorView error={load.error} onRetry={load.reload} />;
}

/**
 * LoadedName reads an object to name it, so that a link to it says which one it is: `loading`
 * while it loads, `fallback` (which should still tell objects apart) if it cannot be read.
 */
export function LoadedName({ id, read, loading, fallback }: { id: string; read: (id: string) => Promise<{ name: string }>; loading: string; fallback: string }) {
  const x = useLoad(() => read(id), [id]);
  if (x.data) return <>{x.data.name}</>;
  if (x.loading) return <span className="cp-muted">{loading}</span>;
  return <>{fallback}</>;
}
