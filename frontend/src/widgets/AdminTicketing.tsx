import { useEffect, useState, type FormEvent } from 'react';
import { call, callTagged } from '../api/client';
import { ApiError } from '../api/problem';
import type { Priority, TicketingDiagnosis, TicketingSettings, TicketingSettingsInput } from '../api/types';
import { useSignedIn } from '../core/context';
import { ErrorView, Loading, Notice, SelectField, TextField, opt, useLoad, useSubmit } from '../core/ui';
import { useStrings, useFormatDate } from '../i18n';

const PRIORITIES: Priority[] = ['critical', 'high', 'medium', 'low'];
const FIELDS = ['provider', 'siteUrl', 'email', 'apiToken', 'serviceDeskId', 'defaultRequestTypeId', 'webhookSecret', 'requestTypes', 'priorities'] as const;

interface FormValues {
  provider: string;
  siteUrl: string;
  email: string;
  apiToken: string;
  webhookSecret: string;
  serviceDeskId: string;
  defaultRequestTypeId: string;
  requestTypes: Record<string, string>;
  priorities: Record<string, string>;
}

function toValues(s: TicketingSettings): FormValues {
  return {
    provider: s.provider,
    siteUrl: s.siteUrl ?? '',
    email: s.email ?? '',
    apiToken: '',
    webhookSecret: '',
    serviceDeskId: s.serviceDeskId ?? '',
    defaultRequestTypeId: s.defaultRequestTypeId ?? '',
    requestTypes: Object.fromEntries(s.requestTypes.map((m) => [m.ticketTypeId, m.requestTypeId])),
    priorities: Object.fromEntries(s.priorities.map((m) => [m.priority, m.jiraPriorityId])),
  };
}

/**
 * AdminTicketing edits the ticketing connection. Secrets are write-only: the form never has
 * them, shows whether one is stored, and sends a field only when the admin typed a new value.
 * A save carries If-Match with the ETag of the settings the form shows, so that another
 * admin's save in between is refused (412) rather than overwritten; the admin then reloads.
 */
export function AdminTicketing() {
  const strings = useStrings();
  const t = strings.ticketing;
  const formatDate = useFormatDate();
  const { api, me } = useSignedIn();
  const admin = me.roles.includes('cp-admin');
  const settings = useLoad(() => (admin ? callTagged(api.GET('/admin/ticketing')) : Promise.resolve(undefined)), [api, admin]);
  const types = useLoad(() => (admin ? call(api.GET('/ticket-types', { params: { query: { limit: 200 } } })) : Promise.resolve(undefined)), [api, admin]);
  const [v, setV] = useState<FormValues | null>(null);
  const [notice, setNotice] = useState<string>();
  const [diagnosis, setDiagnosis] = useState<TicketingDiagnosis>();
  const submit = useSubmit(FIELDS);
  const test = useSubmit([]);
  // The form starts from the first read; after a save it is reset from the answer in the handler.
  useEffect(() => {
    if (settings.data) setV((cur) => cur ?? toValues(settings.data!.data));
  }, [settings.data]);
  if (!admin) return <p>{strings.errors.forbidden}</p>;
  if (settings.error !== undefined) return <ErrorView error={settings.error} onRetry={settings.reload} />;
  if (!settings.data || !v) return <Loading />;
  const { data: s, etag } = settings.data;
  const set = (k: keyof FormValues) => (e: { target: { value: string } }) => setV((x) => (x ? { ...x, [k]: e.target.value } : x));
  const fe = submit.fieldErrors;
  const jira = v.provider === 'jira';
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void submit.run(async () => {
      const body: TicketingSettingsInput = { provider: v.provider as TicketingSettingsInput['provider'] };
      if (jira) {
        body.siteUrl = opt(v.siteUrl);
        body.email = opt(v.email);
        body.serviceDeskId = opt(v.serviceDeskId);
        body.defaultRequestTypeId = opt(v.defaultRequestTypeId);
        body.requestTypes = Object.entries(v.requestTypes)
          .filter(([, id]) => id.trim())
          .map(([ticketTypeId, id]) => ({ ticketTypeId, requestTypeId: id.trim() }));
        body.priorities = PRIORITIES.filter((p) => v.priorities[p]?.trim()).map((p) => ({ priority: p, jiraPriorityId: v.priorities[p].trim() }));
        if (v.apiToken) body.apiToken = v.apiToken;
        if (v.webhookSecret) body.webhookSecret = v.webhookSecret;
      }
      const saved = await callTagged(api.PUT('/admin/ticketing', { params: { header: { 'If-Match': etag } }, body }));
      settings.set(saved);
      setV(toValues(saved.data));
      setDiagnosis(undefined);
      setNotice(t.saved);
    });
  };
  // Another admin saved since the form was read: start again from their settings.
  const changedElsewhere = submit.error instanceof ApiError && submit.error.status === 412;
  const reload = () => {
    submit.clear();
    setNotice(undefined);
    setDiagnosis(undefined);
    setV(null);
    settings.reload();
  };
  const runTest = () =>
    void test.run(async () => {
      setDiagnosis(await call(api.POST('/admin/ticketing/test')));
    });
  return (
    <section aria-labelledby="cp-ticketing-h">
      <h2 id="cp-ticketing-h">{t.heading}</h2>
      {notice && <Notice>{notice}</Notice>}
      <div className="cp-card">
        <h3>{t.sync}</h3>
        <p>{s.sync.stale ? t.stale : t.fresh}</p>
        <dl>
          <dt>{t.lastAttempt}</dt>
          <dd>{formatDate(s.sync.lastAttemptAt)}</dd>
          <dt>{t.lastSuccess}</dt>
          <dd>{formatDate(s.sync.lastSuccessAt)}</dd>
          {s.sync.lastError && (
            <>
              <dt>{t.lastError}</dt>
              <dd>{s.sync.lastError}</dd>
            </>
          )}
        </dl>
      </div>
      <form ref={submit.formRef} onSubmit={onSubmit} noValidate className="cp-card" aria-labelledby="cp-ticketing-h">
        {changedElsewhere ? (
          <div className="cp-form-error" role="alert" tabIndex={-1}>
            <p>{t.changedElsewhere}</p>
            <button type="button" className="cp-button" onClick={reload}>
              {t.reload}
            </button>
          </div>
        ) : (
          submit.summary
        )}
        <SelectField label={t.provider} value={v.provider} onChange={set('provider')} error={fe.provider}>
          {['builtin', 'jira'].map((p) => (
            <option key={p} value={p}>
              {t.providers[p]}
            </option>
          ))}
        </SelectField>
        {jira && (
          <>
            <TextField label={t.siteUrl} type="url" value={v.siteUrl} onChange={set('siteUrl')} error={fe.siteUrl} placeholder="https://example.atlassian.net" />
            <TextField label={t.email} type="email" value={v.email} onChange={set('email')} error={fe.email} />
            <TextField
              label={t.apiToken}
              type="password"
              autoComplete="new-password"
              value={v.apiToken}
              onChange={set('apiToken')}
              error={fe.apiToken}
              hint={s.apiTokenSet ? t.apiTokenSet : t.apiTokenUnset}
            />
            <TextField label={t.serviceDeskId} inputMode="numeric" value={v.serviceDeskId} onChange={set('serviceDeskId')} error={fe.serviceDeskId} />
            <TextField label={t.defaultRequestTypeId} inputMode="numeric" value={v.defaultRequestTypeId} onChange={set('defaultRequestTypeId')} error={fe.defaultRequestTypeId} />
            <TextField
              label={t.webhookSecret}
              type="password"
              autoComplete="new-password"
              value={v.webhookSecret}
              onChange={set('webhookSecret')}
              error={fe.webhookSecret}
              hint={s.webhookSecretSet ? t.webhookSecretSet : t.webhookSecretUnset}
            />
            <fieldset>
              <legend>{t.requestTypes}</legend>
              {fe.requestTypes && <p className="cp-field-error">{fe.requestTypes}</p>}
              {(types.data?.items ?? []).map((ty) => (
                <TextField
                  key={ty.id}
                  label={t.requestTypeFor(ty.name)}
                  inputMode="numeric"
                  value={v.requestTypes[ty.id] ?? ''}
                  onChange={(e) => setV((x) => (x ? { ...x, requestTypes: { ...x.requestTypes, [ty.id]: e.target.value } } : x))}
                />
              ))}
            </fieldset>
            <fieldset>
              <legend>{t.priorities}</legend>
              {fe.priorities && <p className="cp-field-error">{fe.priorities}</p>}
              {PRIORITIES.map((p) => (
                <TextField
                  key={p}
                  label={t.priorityFor(strings.tickets.priorityName(p))}
                  inputMode="numeric"
                  value={v.priorities[p] ?? ''}
                  onChange={(e) => setV((x) => (x ? { ...x, priorities: { ...x.priorities, [p]: e.target.value } } : x))}
                />
              ))}
            </fieldset>
          </>
        )}
        <div className="cp-toolbar">
          <button type="submit" className="cp-button cp-primary" disabled={submit.busy}>
            {strings.common.save}
          </button>
          {s.provider === 'jira' && (
            <button type="button" className="cp-button" disabled={test.busy} onClick={runTest}>
              {t.test}
            </button>
          )}
        </div>
      </form>
      {test.summary}
      {diagnosis && (
        <div className={diagnosis.ok ? 'cp-notice' : 'cp-error'} role="status">
          {diagnosis.ok ? (
            <p>{t.testOk}</p>
          ) : (
            <>
              <p>{t.testProblems}</p>
              <ul>
                {diagnosis.problems.map((pr) => (
                  <li key={pr}>{pr}</li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
    </section>
  );
}
