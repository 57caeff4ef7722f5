import { useState, type FormEvent } from 'react';
import { call, callTagged } from '../api/client';
import type { Partner, ProductVersion, Project, Renewal, Subscription, SubscriptionInput, SubscriptionLevel, User } from '../api/types';
import { useSignedIn } from '../core/context';
import {
  CheckField,
  ConfirmButton,
  DeleteAction,
  Empty,
  ErrorView,
  Link,
  Loading,
  Notice,
  PagedFooter,
  SelectField,
  TextArea,
  TextField,

  useLoad,
  usePaged,
  useSubmit,
} from '../core/ui';
import { strings } from '../strings';
import { ProjectForm } from './Customer';
import { SubscriptionRequest } from './SubscriptionRequest';
import { Tickets } from './Tickets';

const t = strings.project;

/** ProjectView shows a project with its entitlement, subscriptions, people and tickets. */
export function ProjectView({ projectId }: { projectId?: string }) {
  const { api, me, navigate } = useSignedIn();
  const id = projectId ?? '';
  const cat = useCatalogue();
  const [deleted, setDeleted] = useState<Project>();
  const [editing, setEditing] = useState(false);
  const [requesting, setRequesting] = useState(false);
  const [notice, setNotice] = useState<string>();
  const project = useLoad(() => callTagged(api.GET('/projects/{projectId}', { params: { path: { projectId: id } } })), [api, id]);
  const entitlement = useLoad(() => call(api.GET('/projects/{projectId}/entitlement', { params: { path: { projectId: id } } })), [api, id]);
  if (!projectId) return <ErrorView error={new Error(strings.errors.notFound)} />;
  if (deleted) {
    return (
      <section aria-labelledby="cp-project-h">
        <h2 id="cp-project-h">{t.heading(deleted.name)}</h2>
        <Notice>{t.deleted(deleted.name)}</Notice>
        <Link to={`#/customers/${deleted.customerId}`}>
          <CustomerName customerId={deleted.customerId} />
        </Link>
      </section>
    );
  }
  if (project.error !== undefined) return <ErrorView error={project.error} onRetry={project.reload} />;
  if (!project.data) return <Loading />;
  const p = project.data.data;
  const perms = me.permissions;
  return (
    <section aria-labelledby="cp-project-h">
      <h2 id="cp-project-h">{t.heading(p.name)}</h2>
      {notice && <Notice>{notice}</Notice>}
      {editing ? (
        <ProjectForm
          customerId={p.customerId}
          project={p}
          etag={project.data.etag}
          onCancel={() => setEditing(false)}
          onDone={() => {
            setEditing(false);
            setNotice(strings.common.saved);
            project.reload();
          }}
        />
      ) : (
        <div className="cp-card">
          <h3>{t.details}</h3>
          <dl>
            <dt>{t.customer}</dt>
            <dd>
              <Link to={`#/customers/${p.customerId}`}>
                <CustomerName customerId={p.customerId} />
              </Link>
            </dd>
            <dt>{strings.common.description}</dt>
            <dd>{p.description || strings.common.none}</dd>
            <dt>{t.ticketVisibility}</dt>
            <dd>{t.visibility[p.ticketVisibility] ?? p.ticketVisibility}</dd>
            <dt>{strings.common.contactName}</dt>
            <dd>{p.contactName || strings.common.none}</dd>
            <dt>{strings.common.contactEmail}</dt>
            <dd>{p.contactEmail || strings.common.none}</dd>
            {perms.readAllCustomers && p.jsmOrganizationId && (
              <>
                <dt>{t.jsmOrganizationId}</dt>
                <dd>{p.jsmOrganizationId}</dd>
              </>
            )}
            {perms.viewNotes && p.notes !== undefined && (
              <>
                <dt>{strings.common.notes}</dt>
                <dd>{p.notes || strings.common.none}</dd>
              </>
            )}
          </dl>
          {perms.manageProjects && (
            <div className="cp-toolbar">
              <button type="button" className="cp-button" onClick={() => setEditing(true)}>
                {strings.common.edit}
              </button>
              <DeleteAction
                label={t.deleteProject}
                confirm={t.deleteConfirm(p.name)}
                onDelete={() => call(api.DELETE('/projects/{projectId}', { params: { path: { projectId: p.id } } }))}
                onDeleted={() => {
                  setDeleted(p);
                  navigate(`#/customers/${p.customerId}`);
                }}
              />
            </div>
          )}
        </div>
      )}

      <h3>{t.entitlement}</h3>
      {entitlement.error !== undefined ? (
        <ErrorView error={entitlement.error} onRetry={entitlement.reload} />
      ) : !entitlement.data ? (
        <Loading />
      ) : (
        <div className="cp-card">
          <p>{entitlement.data.canOpenTickets ? t.canOpen : t.cannotOpen}</p>
          {entitlement.data.subscription && (
            <dl>
              <dt>{t.currentSubscription}</dt>
              <dd>
                {t.currentLevel(
                  entitlement.data.level?.name ?? cat.levelName(entitlement.data.subscription.levelId),
                  cat.versionName(entitlement.data.subscription.productVersionId),
                  entitlement.data.subscription.startDate,
                  entitlement.data.subscription.endDate,
                )}
              </dd>
            </dl>
          )}
          {entitlement.data.reasons.length > 0 && (
            <ul>
              {entitlement.data.reasons.map((r) => (
                <li key={r}>{t.reason(r)}</li>
              ))}
            </ul>
          )}
          {entitlement.data.canOpenTickets && (
            <Link className="cp-button cp-primary" to={`#/projects/${p.id}/tickets/new`}>
              {t.openTicket}
            </Link>
          )}
        </div>
      )}

      <Subscriptions projectId={p.id} cat={cat} onChange={entitlement.reload} />
      {(perms.requestSubscriptions || perms.manageSubscriptions) &&
        (requesting ? (
          <SubscriptionRequest
            projectId={p.id}
            onDone={() => {
              setRequesting(false);
              entitlement.reload();
            }}
          />
        ) : (
          <button type="button" className="cp-button" onClick={() => setRequesting(true)}>
            {t.requestSubscription}
          </button>
        ))}

      <ProjectUsers project={p} />
      <ProjectPartners project={p} />

      <h3>{t.tickets}</h3>
      <Tickets projectId={p.id} embedded />
    </section>
  );
}

type Catalogue = { levelName: (id: string) => string; versionName: (id: string) => string; levels: SubscriptionLevel[]; versions: ProductVersion[] };

/** useCatalogue reads the levels and versions once, to name them and to offer them in forms. */
function useCatalogue(): Catalogue {
  const { api } = useSignedIn();
  const levels = useLoad(() => call(api.GET('/subscription-levels', { params: { query: { limit: 200 } } })), [api]);
  const versions = useLoad(() => call(api.GET('/product-versions', { params: { query: { limit: 200 } } })), [api]);
  return {
    levels: levels.data?.items ?? [],
    versions: versions.data?.items ?? [],
    levelName: (id: string) => levels.data?.items.find((l) => l.id === id)?.name ?? id,
    versionName: (id: string) => versions.data?.items.find((v) => v.id === id)?.name ?? id,
  };
}

function LevelVersionFields({
  cat,
  levelId,
  productVersionId,
  onLevel,
  onVersion,
  errors,
}: {
  cat: Catalogue;
  levelId: string;
  productVersionId: string;
  onLevel: (v: string) => void;
  onVersion: (v: string) => void;
  errors: Record<string, string>;
}) {
  return (
    <>
      <SelectField label={strings.subscriptionRequest.level} required value={levelId} onChange={(e) => onLevel(e.target.value)} error={errors.levelId}>
        {cat.levels.map((l) => (
          <option key={l.id} value={l.id}>
            {l.name}
          </option>
        ))}
      </SelectField>
      <SelectField
        label={strings.subscriptionRequest.productVersion}
        required
        value={productVersionId}
        onChange={(e) => onVersion(e.target.value)}
        error={errors.productVersionId}
      >
        {cat.versions.map((v) => (
          <option key={v.id} value={v.id}>
            {v.name}
          </option>
        ))}
      </SelectField>
    </>
  );
}

/** RejectForm rejects a request; the API requires a reason (1–1024 characters). */
function RejectForm({ sub, onDone, onCancel }: { sub: Subscription; onDone: (s: Subscription) => void; onCancel: () => void }) {
  const { api } = useSignedIn();
  const [reason, setReason] = useState('');
  const submit = useSubmit(['reason']);
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void submit.run(async () => {
      onDone(await call(api.POST('/subscriptions/{id}/reject', { params: { path: { id: sub.id } }, body: { reason: reason.trim() } })));
    });
  };
  return (
    <form ref={submit.formRef} onSubmit={onSubmit} noValidate className="cp-card" aria-label={t.rejectHeading}>
      <h4>{t.rejectHeading}</h4>
      {submit.summary}
      <TextArea label={t.rejectReason} required maxLength={1024} value={reason} onChange={(e) => setReason(e.target.value)} error={submit.fieldErrors.reason} autoFocus />
      <div className="cp-toolbar">
        <button type="submit" className="cp-button cp-danger" disabled={submit.busy || !reason.trim()}>
          {t.reject}
        </button>
        <button type="button" className="cp-button" onClick={onCancel}>
          {strings.common.cancel}
        </button>
      </div>
    </form>
  );
}

/** RenewForm renews an active or expired subscription; only terms that differ are sent. */
function RenewForm({ sub, cat, onDone, onCancel }: { sub: Subscription; cat: Catalogue; onDone: (s: Subscription) => void; onCancel: () => void }) {
  const { api } = useSignedIn();
  const [v, setV] = useState({ levelId: sub.levelId, productVersionId: sub.productVersionId, lengthMonths: String(sub.lengthMonths) });
  const submit = useSubmit(['levelId', 'productVersionId', 'lengthMonths']);
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void submit.run(async () => {
      const body: Renewal = {};
      if (v.levelId !== sub.levelId) body.levelId = v.levelId;
      if (v.productVersionId !== sub.productVersionId) body.productVersionId = v.productVersionId;
      if (Number(v.lengthMonths) !== sub.lengthMonths) body.lengthMonths = Number(v.lengthMonths);
      onDone(await call(api.POST('/subscriptions/{id}/renew', { params: { path: { id: sub.id } }, body })));
    });
  };
  return (
    <form ref={submit.formRef} onSubmit={onSubmit} noValidate className="cp-card" aria-label={t.renewHeading}>
      <h4>{t.renewHeading}</h4>
      <p className="cp-hint">{t.renewHint}</p>
      {submit.summary}
      <LevelVersionFields
        cat={cat}
        levelId={v.levelId}
        productVersionId={v.productVersionId}
        onLevel={(levelId) => setV((x) => ({ ...x, levelId }))}
        onVersion={(productVersionId) => setV((x) => ({ ...x, productVersionId }))}
        errors={submit.fieldErrors}
      />
      <TextField
        label={t.lengthMonths}
        type="number"
        min={1}
        max={120}
        required
        value={v.lengthMonths}
        onChange={(e) => setV((x) => ({ ...x, lengthMonths: e.target.value }))}
        error={submit.fieldErrors.lengthMonths}
      />
      <div className="cp-toolbar">
        <button type="submit" className="cp-button cp-primary" disabled={submit.busy}>
          {t.renew}
        </button>
        <button type="button" className="cp-button" onClick={onCancel}>
          {strings.common.cancel}
        </button>
      </div>
    </form>
  );
}

/** EditSubscriptionForm changes a subscription's terms with If-Match from a fresh read. */
function EditSubscriptionForm({ sub, cat, onDone, onCancel }: { sub: Subscription; cat: Catalogue; onDone: (s: Subscription) => void; onCancel: () => void }) {
  const { api } = useSignedIn();
  const current = useLoad(() => callTagged(api.GET('/subscriptions/{id}', { params: { path: { id: sub.id } } })), [api, sub.id]);
  const [v, setV] = useState<{ levelId: string; productVersionId: string; startDate: string; lengthMonths: string } | null>(null);
  const submit = useSubmit(['levelId', 'productVersionId', 'startDate', 'lengthMonths']);
  if (current.error !== undefined) return <ErrorView error={current.error} onRetry={current.reload} />;
  if (!current.data) return <Loading />;
  const s = current.data.data;
  const vals = v ?? { levelId: s.levelId, productVersionId: s.productVersionId, startDate: s.startDate, lengthMonths: String(s.lengthMonths) };
  const set = (patch: Partial<typeof vals>) => setV({ ...vals, ...patch });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void submit.run(async () => {
      const body: SubscriptionInput = { levelId: vals.levelId, productVersionId: vals.productVersionId, startDate: vals.startDate, lengthMonths: Number(vals.lengthMonths) };
      onDone(await call(api.PUT('/subscriptions/{id}', { params: { path: { id: sub.id }, header: { 'If-Match': current.data!.etag } }, body })));
    });
  };
  return (
    <form ref={submit.formRef} onSubmit={onSubmit} noValidate className="cp-card" aria-label={t.editSubscriptionHeading}>
      <h4>{t.editSubscriptionHeading}</h4>
      <p className="cp-hint">{t.editSubscriptionHint}</p>
      {submit.summary}
      <LevelVersionFields
        cat={cat}
        levelId={vals.levelId}
        productVersionId={vals.productVersionId}
        onLevel={(levelId) => set({ levelId })}
        onVersion={(productVersionId) => set({ productVersionId })}
        errors={submit.fieldErrors}
      />
      <TextField label={t.start} type="date" required value={vals.startDate} onChange={(e) => set({ startDate: e.target.value })} error={submit.fieldErrors.startDate} />
      <TextField
        label={t.lengthMonths}
        type="number"
        min={1}
        max={120}
        required
        value={vals.lengthMonths}
        onChange={(e) => set({ lengthMonths: e.target.value })}
        error={submit.fieldErrors.lengthMonths}
      />
      <div className="cp-toolbar">
        <button type="submit" className="cp-button cp-primary" disabled={submit.busy}>
          {strings.common.save}
        </button>
        <button type="button" className="cp-button" onClick={onCancel}>
          {strings.common.cancel}
        </button>
      </div>
    </form>
  );
}

type SubMode = { kind: 'reject' | 'renew' | 'edit'; sub: Subscription };

function Subscriptions({ projectId, cat, onChange }: { projectId: string; cat: Catalogue; onChange: () => void }) {
  const { api, me } = useSignedIn();
  const manage = me.permissions.manageSubscriptions;
  const mayRenew = manage || me.permissions.requestSubscriptions;
  const subs = usePaged<Subscription>(
    (cursor) => call(api.GET('/projects/{projectId}/subscriptions', { params: { path: { projectId }, query: { cursor } } })),
    [api, projectId],
  );
  const [mode, setMode] = useState<SubMode>();
  const [notice, setNotice] = useState<string>();
  const action = useSubmit([]);
  const replace = (s: Subscription) => {
    subs.setItems((xs) => xs.map((x) => (x.id === s.id ? s : x)));
    onChange();
  };
  const open = (m: SubMode) => {
    setNotice(undefined);
    action.clear();
    setMode(m);
  };
  const approve = (s: Subscription) =>
    void action.run(async () => {
      setNotice(undefined);
      replace(await call(api.POST('/subscriptions/{id}/approve', { params: { path: { id: s.id } } })));
      setNotice(t.approved);
    });
  const showActions = manage || mayRenew;
  return (
    <>
      <h3>{t.subscriptions}</h3>
      {notice && <Notice>{notice}</Notice>}
      {action.summary}
      {!subs.loading && subs.error === undefined && subs.items.length === 0 && <Empty>{t.noSubscriptions}</Empty>}
      {subs.items.length > 0 && (
        <div className="cp-table-wrap">
          <table aria-label={t.subscriptionsTable}>
            <thead>
              <tr>
                <th scope="col">{t.level}</th>
                <th scope="col">{t.productVersion}</th>
                <th scope="col">{t.start}</th>
                <th scope="col">{t.end}</th>
                <th scope="col">{t.status}</th>
                {showActions && <th scope="col">{strings.common.actions}</th>}
              </tr>
            </thead>
            <tbody>
              {subs.items.map((s) => {
                const renewable = s.status === 'ACTIVE' || s.status === 'EXPIRED';
                return (
                  <tr key={s.id}>
                    <td>{cat.levelName(s.levelId)}</td>
                    <td>{cat.versionName(s.productVersionId)}</td>
                    <td>{s.startDate}</td>
                    <td>{s.endDate}</td>
                    <td>
                      {t.subscriptionStatus(s.status)}
                      {s.rejectionReason && <span className="cp-muted"> ({s.rejectionReason})</span>}
                    </td>
                    {showActions && (
                      <td>
                        <div className="cp-toolbar" role="group" aria-label={t.subscriptionActions(cat.levelName(s.levelId), s.startDate)}>
                          {manage && s.status === 'REQUESTED' && (
                            <>
                              <button type="button" className="cp-button" disabled={action.busy} onClick={() => approve(s)}>
                                {t.approve}
                              </button>
                              <button type="button" className="cp-button cp-danger" onClick={() => open({ kind: 'reject', sub: s })}>
                                {t.reject}
                              </button>
                            </>
                          )}
                          {mayRenew && renewable && (
                            <button type="button" className="cp-button" onClick={() => open({ kind: 'renew', sub: s })}>
                              {manage ? t.renew : t.requestRenewal}
                            </button>
                          )}
                          {manage && s.status !== 'REJECTED' && (
                            <button type="button" className="cp-button" onClick={() => open({ kind: 'edit', sub: s })}>
                              {t.editSubscription}
                            </button>
                          )}
                          {manage && (
                            <DeleteAction
                              label={t.deleteSubscription}
                              confirm={t.deleteSubscriptionConfirm}
                              onDelete={() => call(api.DELETE('/subscriptions/{id}', { params: { path: { id: s.id } } }))}
                              onDeleted={() => {
                                subs.setItems((xs) => xs.filter((x) => x.id !== s.id));
                                if (mode?.sub.id === s.id) setMode(undefined);
                                setNotice(t.subscriptionDeleted);
                                onChange();
                              }}
                            />
                          )}
                        </div>
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <PagedFooter paged={subs} />
      {mode?.kind === 'reject' && manage && (
        <RejectForm
          key={mode.sub.id}
          sub={mode.sub}
          onCancel={() => setMode(undefined)}
          onDone={(s) => {
            setMode(undefined);
            replace(s);
            setNotice(t.rejected);
          }}
        />
      )}
      {mode?.kind === 'renew' && mayRenew && (
        <RenewForm
          key={mode.sub.id}
          sub={mode.sub}
          cat={cat}
          onCancel={() => setMode(undefined)}
          onDone={(s) => {
            setMode(undefined);
            subs.reload();
            onChange();
            setNotice(s.status === 'REQUESTED' ? t.renewalRequested : t.renewed);
          }}
        />
      )}
      {mode?.kind === 'edit' && manage && (
        <EditSubscriptionForm
          key={mode.sub.id}
          sub={mode.sub}
          cat={cat}
          onCancel={() => setMode(undefined)}
          onDone={(s) => {
            setMode(undefined);
            replace(s);
            setNotice(strings.common.saved);
          }}
        />
      )}
    </>
  );
}

function ProjectUsers({ project }: { project: Project }) {
  const { api, me } = useSignedIn();
  const manage = me.permissions.manageAssignments;
  const projectId = project.id;
  const users = usePaged<User>((cursor) => call(api.GET('/projects/{projectId}/users', { params: { path: { projectId }, query: { cursor } } })), [api, projectId]);
  const [username, setUsername] = useState('');
  const [seesAll, setSeesAll] = useState(false);
  const [notice, setNotice] = useState<string>();
  const assign = useSubmit(['username', 'userId', 'seesAllTickets']);
  const remove = useSubmit([]);
  const onAssign = (e: FormEvent) => {
    e.preventDefault();
    void assign.run(async () => {
      const u = await call(
        api.POST('/projects/{projectId}/users', {
          params: { path: { projectId } },
          body: { username: username.trim(), ...(project.ticketVisibility === 'own' ? { seesAllTickets: seesAll } : {}) },
        }),
      );
      setUsername('');
      setSeesAll(false);
      setNotice(`${u.username} ✓`);
      users.reload();
    });
  };
  const unassign = (u: User) =>
    void remove.run(async () => {
      await call(api.DELETE('/projects/{projectId}/users/{userId}', { params: { path: { projectId, userId: u.id } } }));
      users.setItems((xs) => xs.filter((x) => x.id !== u.id));
    });
  return (
    <>
      <h3>{t.users}</h3>
      {notice && <Notice>{notice}</Notice>}
      {remove.summary}
      {!users.loading && users.error === undefined && users.items.length === 0 && <Empty>{t.noUsers}</Empty>}
      {users.items.length > 0 && (
        <div className="cp-table-wrap">
          <table aria-label={t.usersTable}>
            <thead>
              <tr>
                <th scope="col">{t.username}</th>
                <th scope="col">{t.email}</th>
                {project.ticketVisibility === 'own' && <th scope="col">{t.seesAllTickets}</th>}
                {manage && <th scope="col">{strings.common.actions}</th>}
              </tr>
            </thead>
            <tbody>
              {users.items.map((u) => (
                <tr key={u.id}>
                  <td>{u.username}</td>
                  <td>{u.email || strings.common.none}</td>
                  {project.ticketVisibility === 'own' && <td>{u.seesAllTickets ? strings.common.yes : strings.common.no}</td>}
                  {manage && (
                    <td>
                      <button type="button" className="cp-button cp-danger" disabled={remove.busy} onClick={() => unassign(u)}>
                        {t.unassign(u.username)}
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <PagedFooter paged={users} />
      {manage && (
        <form ref={assign.formRef} onSubmit={onAssign} noValidate className="cp-toolbar" aria-label={t.assignUser}>
          {assign.summary}
          <TextField label={t.assignUsername} required value={username} onChange={(e) => setUsername(e.target.value)} error={assign.fieldErrors.username ?? assign.fieldErrors.userId} />
          {project.ticketVisibility === 'own' && <CheckField label={t.seesAllTickets} checked={seesAll} onChange={(e) => setSeesAll(e.target.checked)} />}
          <button type="submit" className="cp-button" disabled={assign.busy || !username.trim()}>
            {t.assignUser}
          </button>
        </form>
      )}
    </>
  );
}

function ProjectPartners({ project }: { project: Project }) {
  const { api, me } = useSignedIn();
  const manage = me.permissions.manageAssignments;
  const projectId = project.id;
  const partners = usePaged<Partner>((cursor) => call(api.GET('/projects/{projectId}/partners', { params: { path: { projectId }, query: { cursor } } })), [api, projectId]);
  const all = useLoad(
    () => (manage ? call(api.GET('/partners', { params: { query: { limit: 200 } } })) : Promise.resolve({ items: [] as Partner[] })),
    [api, manage],
  );
  const [choice, setChoice] = useState('');
  const link = useSubmit(['partnerId']);
  const onLink = (e: FormEvent) => {
    e.preventDefault();
    void link.run(async () => {
      await call(api.POST('/projects/{projectId}/partners', { params: { path: { projectId } }, body: { partnerId: choice } }));
      setChoice('');
      partners.reload();
    });
  };
  const unlink = (p: Partner) =>
    void link.run(async () => {
      await call(api.DELETE('/projects/{projectId}/partners/{partnerId}', { params: { path: { projectId, partnerId: p.id } } }));
      partners.setItems((xs) => xs.filter((x) => x.id !== p.id));
    });
  const linked = new Set(partners.items.map((p) => p.id));
  return (
    <>
      <h3>{t.partners}</h3>
      {!partners.loading && partners.error === undefined && partners.items.length === 0 && <Empty>{t.noPartners}</Empty>}
      {partners.items.length > 0 && (
        <div className="cp-table-wrap">
          <table aria-label={t.partnersTable}>
            <thead>
              <tr>
                <th scope="col">{strings.common.name}</th>
                <th scope="col">{t.partnerNumber}</th>
                {manage && <th scope="col">{strings.common.actions}</th>}
              </tr>
            </thead>
            <tbody>
              {partners.items.map((p) => (
                <tr key={p.id}>
                  <td>
                    <Link to={`#/partners/${p.id}`}>{p.name}</Link>
                  </td>
                  <td>{p.partnerNumber}</td>
                  {manage && (
                    <td>
                      <ConfirmButton label={t.unlink(p.name)} confirm={t.unlink(p.name) + '?'} onConfirm={() => unlink(p)} disabled={link.busy} />
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <PagedFooter paged={partners} />
      {manage && (
        <form ref={link.formRef} onSubmit={onLink} noValidate className="cp-toolbar" aria-label={t.linkPartner}>
          {link.summary}
          <SelectField label={t.partnerToLink} required value={choice} onChange={(e) => setChoice(e.target.value)} error={link.fieldErrors.partnerId}>
            <option value="">{t.choosePartner}</option>
            {(all.data?.items ?? [])
              .filter((p) => !linked.has(p.id))
              .map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name} ({p.partnerNumber})
                </option>
              ))}
          </SelectField>
          <button type="submit" className="cp-button" disabled={link.busy || !choice}>
            {t.linkPartner}
          </button>
        </form>
      )}
    </>
  );
}


/** CustomerName names a project's customer (getCustomer), falling back to the word while it loads or if unreadable. */
function CustomerName({ customerId }: { customerId: string }) {
  const { api } = useSignedIn();
  const customer = useLoad(() => call(api.GET('/customers/{customerId}', { params: { path: { customerId } } })), [api, customerId]);
  if (customer.data) return <>{customer.data.name}</>;
  if (customer.loading) return <span className="cp-muted">{t.customerLoading}</span>;
  return <>{t.customer}</>;
}
