import { useState, type FormEvent } from 'react';
import { call } from '../api/client';
import type { Subscription } from '../api/types';
import { useSignedIn } from '../core/context';
import { ErrorView, Loading, Notice, SelectField, TextField, useLoad, useSubmit } from '../core/ui';
import { useStrings } from '../i18n';

const FIELDS = ['levelId', 'productVersionId', 'startDate', 'lengthMonths'] as const;

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/**
 * SubscriptionRequest asks for a subscription on a project. The server decides the status from
 * the caller's role (REQUESTED for customers and partners, ACTIVE for admins); the form only words it.
 */
export function SubscriptionRequest({ projectId, onDone }: { projectId?: string; onDone?: (s: Subscription) => void }) {
  const strings = useStrings();
  const t = strings.subscriptionRequest;
  const { api, me, emit } = useSignedIn();
  const admin = me.permissions.manageSubscriptions;
  const allowed = admin || me.permissions.requestSubscriptions;
  const [v, setV] = useState({ levelId: '', productVersionId: '', startDate: today(), lengthMonths: '12' });
  const [done, setDone] = useState<Subscription>();
  const submit = useSubmit(FIELDS);
  const levels = useLoad(() => call(api.GET('/subscription-levels', { params: { query: { limit: 200 } } })), [api]);
  const versions = useLoad(() => call(api.GET('/product-versions', { params: { query: { active: true, limit: 200 } } })), [api]);
  if (!allowed) return <p>{t.notAllowed}</p>;
  if (!projectId) return <ErrorView error={new Error(strings.errors.notFound)} />;
  if (levels.error !== undefined) return <ErrorView error={levels.error} onRetry={levels.reload} />;
  if (versions.error !== undefined) return <ErrorView error={versions.error} onRetry={versions.reload} />;
  if (!levels.data || !versions.data) return <Loading />;
  const set = (k: keyof typeof v) => (e: { target: { value: string } }) => setV((x) => ({ ...x, [k]: e.target.value }));
  const fe = submit.fieldErrors;
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void submit.run(async () => {
      const s = await call(
        api.POST('/projects/{projectId}/subscriptions', {
          params: { path: { projectId } },
          body: { levelId: v.levelId, productVersionId: v.productVersionId, startDate: v.startDate, lengthMonths: Number(v.lengthMonths) },
        }),
      );
      setDone(s);
      emit('cp-subscription-requested', { id: s.id, projectId, status: s.status });
      onDone?.(s);
    });
  };
  const heading = admin ? t.adminHeading : t.heading;
  return (
    <section aria-labelledby="cp-subreq-h">
      <h3 id="cp-subreq-h">{heading}</h3>
      {done && <Notice>{done.status === 'ACTIVE' ? t.created : t.requested}</Notice>}
      <form ref={submit.formRef} onSubmit={onSubmit} noValidate className="cp-card" aria-labelledby="cp-subreq-h">
        {submit.summary}
        <SelectField label={t.level} required value={v.levelId} onChange={set('levelId')} error={fe.levelId}>
          <option value="">{t.chooseLevel}</option>
          {levels.data.items.map((l) => (
            <option key={l.id} value={l.id}>
              {l.name}
            </option>
          ))}
        </SelectField>
        <SelectField label={t.productVersion} required value={v.productVersionId} onChange={set('productVersionId')} error={fe.productVersionId}>
          <option value="">{t.chooseVersion}</option>
          {versions.data.items.map((pv) => (
            <option key={pv.id} value={pv.id}>
              {pv.name}
            </option>
          ))}
        </SelectField>
        <TextField label={t.startDate} type="date" required value={v.startDate} onChange={set('startDate')} error={fe.startDate} />
        <TextField label={t.lengthMonths} type="number" min={1} max={120} required value={v.lengthMonths} onChange={set('lengthMonths')} error={fe.lengthMonths} />
        <button type="submit" className="cp-button cp-primary" disabled={submit.busy}>
          {admin ? t.adminSubmit : t.submit}
        </button>
      </form>
    </section>
  );
}
