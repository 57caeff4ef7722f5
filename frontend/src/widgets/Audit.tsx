import { useState, type FormEvent } from 'react';
import { call } from '../api/client';
import { splitFieldErrors } from '../api/problem';
import type { AuditEvent } from '../api/types';
import { isStaff, useSignedIn } from '../core/context';
import { PagedTable } from '../core/list';
import { TextField, usePaged } from '../core/ui';
import { useStrings, useFormatDate } from '../i18n';
import type { Strings } from '../i18n';

const FILTER_FIELDS = ['resourceType', 'resourceId', 'actor', 'since', 'until'] as const;
type Filters = Partial<Record<(typeof FILTER_FIELDS)[number], string>>;
const EMPTY = { resourceType: '', resourceId: '', actor: '', since: '', until: '' };

/** toInstant turns a datetime-local value (the viewer's local time) into the RFC 3339 instant the API takes. */
export function toInstant(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? local : d.toISOString();
}

/** show renders an audit value: strings as they are, absent values as "(none)", the rest as JSON. */
function show(v: unknown, t: Strings['audit']): string {
  if (v === undefined || v === null || v === '') return t.absent;
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function Changes({ event }: { event: AuditEvent }) {
  const t = useStrings().audit;
  const formatDate = useFormatDate();
  const entries = Object.entries(event.changes ?? {});
  if (entries.length === 0) return <span className="cp-muted">{t.noChanges}</span>;
  return (
    <details>
      <summary>{entries.map(([f]) => f).join(', ')}</summary>
      <div className="cp-table-wrap">
        <table aria-label={t.changesOf(event.action, formatDate(event.occurredAt))}>
          <thead>
            <tr>
              <th scope="col">{t.field}</th>
              <th scope="col">{t.before}</th>
              <th scope="col">{t.after}</th>
            </tr>
          </thead>
          <tbody>
            {entries.map(([field, c]) => (
              <tr key={field}>
                <th scope="row">{field}</th>
                <td>{show(c?.before, t)}</td>
                <td>{show(c?.after, t)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

/**
 * Audit is the audit log for staff (cp-admin, cp-support), newest first, with filters by resource
 * type and id, actor and time range, and cursor paging. resource-type / resource-id preset the filters.
 */
export function Audit({ resourceType, resourceId }: { resourceType?: string; resourceId?: string }) {
  const strings = useStrings();
  const t = strings.audit;
  const formatDate = useFormatDate();
  const { api, me } = useSignedIn();
  const allowed = isStaff(me);
  const initial = { ...EMPTY, resourceType: resourceType ?? '', resourceId: resourceId ?? '' };
  const [form, setForm] = useState(initial);
  const [filters, setFilters] = useState<Filters>({ resourceType: resourceType || undefined, resourceId: resourceId || undefined });
  const paged = usePaged<AuditEvent>(
    (cursor) => (allowed ? call(api.GET('/audit-events', { params: { query: { ...filters, cursor } } })) : Promise.resolve({ items: [] })),
    [api, allowed, filters.resourceType, filters.resourceId, filters.actor, filters.since, filters.until],
  );
  if (!allowed) return <p>{strings.errors.forbidden}</p>;
  const fe = splitFieldErrors(paged.error, FILTER_FIELDS).byField;
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm((f) => ({ ...f, [k]: e.target.value }));
  const apply = (e: FormEvent) => {
    e.preventDefault();
    setFilters({
      resourceType: form.resourceType.trim() || undefined,
      resourceId: form.resourceId.trim() || undefined,
      actor: form.actor.trim() || undefined,
      since: toInstant(form.since),
      until: toInstant(form.until),
    });
  };
  const reset = () => {
    setForm(EMPTY);
    setFilters({});
  };
  return (
    <section aria-labelledby="cp-audit-h">
      <h2 id="cp-audit-h">{t.heading}</h2>
      <form role="search" aria-label={t.filters} onSubmit={apply} noValidate className="cp-toolbar">
        <TextField label={t.resourceType} maxLength={64} value={form.resourceType} onChange={set('resourceType')} error={fe.resourceType} />
        <TextField label={t.resourceId} maxLength={128} value={form.resourceId} onChange={set('resourceId')} error={fe.resourceId} />
        <TextField label={t.actor} maxLength={255} value={form.actor} onChange={set('actor')} error={fe.actor} />
        <TextField label={t.since} type="datetime-local" hint={t.timeHint} value={form.since} onChange={set('since')} error={fe.since} />
        <TextField label={t.until} type="datetime-local" hint={t.timeHint} value={form.until} onChange={set('until')} error={fe.until} />
        <button type="submit" className="cp-button cp-primary">
          {t.apply}
        </button>
        <button type="button" className="cp-button" onClick={reset}>
          {t.reset}
        </button>
      </form>
      <PagedTable
        paged={paged}
        label={t.tableLabel}
        empty={t.empty}
        rowKey={(ev) => ev.id}
        columns={[
          { header: t.when, cell: (ev) => formatDate(ev.occurredAt) },
          { header: t.who, cell: (ev) => ev.actorUsername || ev.actorSubject },
          { header: t.action, cell: (ev) => ev.action },
          {
            header: t.resource,
            cell: (ev) => (
              <>
                {ev.resourceType} <span className="cp-muted">{ev.resourceId}</span>
              </>
            ),
          },
          { header: t.changes, cell: (ev) => <Changes event={ev} /> },
        ]}
      />
    </section>
  );
}
