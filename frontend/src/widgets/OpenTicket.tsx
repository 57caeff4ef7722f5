import { useRef, useState, type FormEvent } from 'react';
import { call, newIdempotencyKey } from '../api/client';
import type { Priority, Ticket } from '../api/types';
import { useSignedIn } from '../core/context';
import { ErrorView, Link, Loading, Notice, SelectField, TextArea, TextField, useLoad, useSubmit } from '../core/ui';
import { useStrings } from '../i18n';

const FIELDS = ['projectId', 'typeId', 'summary', 'description', 'priority', 'participantIds'] as const;

/**
 * OpenTicket opens a ticket on a project (given, or chosen among the caller's). One
 * Idempotency-Key stands for one filled-in form: a double click or a retry after a lost answer
 * sends the same key and gets the same ticket; editing the form starts a new key, since the
 * server refuses a known key with a different body.
 */
export function OpenTicket({ projectId }: { projectId?: string }) {
  const strings = useStrings();
  const t = strings.openTicket;
  const { api, emit } = useSignedIn();
  const [chosen, setChosen] = useState(projectId ?? '');
  const project = projectId ?? chosen;
  const [v, setV] = useState({ typeId: '', summary: '', description: '', priority: 'medium' });
  const [created, setCreated] = useState<Ticket>();
  const key = useRef(newIdempotencyKey());
  const submit = useSubmit(FIELDS);
  const projects = useLoad(
    () => (projectId ? Promise.resolve({ items: [] }) : call(api.GET('/projects', { params: { query: { limit: 200 } } }))),
    [api, projectId],
  );
  const types = useLoad(() => call(api.GET('/ticket-types', { params: { query: { active: true, limit: 200 } } })), [api]);
  const entitlement = useLoad(
    () => (project ? call(api.GET('/projects/{projectId}/entitlement', { params: { path: { projectId: project } } })) : Promise.resolve(undefined)),
    [api, project],
  );
  const edit = (k: keyof typeof v) => (e: { target: { value: string } }) => {
    key.current = newIdempotencyKey();
    setV((x) => ({ ...x, [k]: e.target.value }));
  };
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void submit.run(async () => {
      const ticket = await call(
        api.POST('/projects/{projectId}/tickets', {
          params: { path: { projectId: project }, header: { 'Idempotency-Key': key.current } },
          body: { typeId: v.typeId, summary: v.summary.trim(), description: v.description || undefined, priority: v.priority as Priority },
        }),
      );
      key.current = newIdempotencyKey();
      setV({ typeId: '', summary: '', description: '', priority: 'medium' });
      setCreated(ticket);
      emit('cp-ticket-created', { key: ticket.key, projectId: ticket.projectId });
    });
  };
  if (projects.error !== undefined) return <ErrorView error={projects.error} onRetry={projects.reload} />;
  if (types.error !== undefined) return <ErrorView error={types.error} onRetry={types.reload} />;
  if (projects.loading || types.loading) return <Loading />;
  const fe = submit.fieldErrors;
  const ent = entitlement.data;
  const blocked = Boolean(project && ent && !ent.canOpenTickets);
  return (
    <section aria-labelledby="cp-open-ticket-h">
      <h2 id="cp-open-ticket-h">{t.heading}</h2>
      {created && (
        <Notice>
          {t.created(created.key)} <Link to={`#/tickets/${created.key}`}>{t.view}</Link>
        </Notice>
      )}
      {!projectId && projects.data && projects.data.items.length === 0 ? (
        <p>{t.noProjects}</p>
      ) : (
        <form ref={submit.formRef} onSubmit={onSubmit} noValidate className="cp-card" aria-labelledby="cp-open-ticket-h">
          {submit.summary}
          {!projectId && (
            <SelectField label={t.project} required value={chosen} onChange={(e) => { key.current = newIdempotencyKey(); setChosen(e.target.value); }} error={fe.projectId}>
              <option value="">{t.chooseProject}</option>
              {(projects.data?.items ?? []).map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </SelectField>
          )}
          {blocked && ent && (
            <div className="cp-error" role="alert">
              <p>{t.notEntitled}</p>
              <ul>
                {ent.reasons.map((r) => (
                  <li key={r}>{strings.project.reason(r)}</li>
                ))}
              </ul>
            </div>
          )}
          {entitlement.error !== undefined && <ErrorView error={entitlement.error} onRetry={entitlement.reload} />}
          <SelectField label={t.type} required value={v.typeId} onChange={edit('typeId')} error={fe.typeId}>
            <option value="">{t.chooseType}</option>
            {(types.data?.items ?? []).map((ty) => (
              <option key={ty.id} value={ty.id}>
                {ty.name}
              </option>
            ))}
          </SelectField>
          <TextField label={t.summary} required maxLength={255} value={v.summary} onChange={edit('summary')} error={fe.summary} />
          <TextArea label={t.description} value={v.description} onChange={edit('description')} error={fe.description} />
          <SelectField label={t.priority} value={v.priority} onChange={edit('priority')} error={fe.priority}>
            {(['critical', 'high', 'medium', 'low'] as const).map((p) => (
              <option key={p} value={p}>
                {strings.tickets.priorityName(p)}
              </option>
            ))}
          </SelectField>
          <button type="submit" className="cp-button cp-primary" disabled={submit.busy || blocked || !project}>
            {t.submit}
          </button>
        </form>
      )}
    </section>
  );
}
