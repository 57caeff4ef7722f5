import { useState, type FormEvent } from 'react';
import { call, callTagged } from '../api/client';
import type { Partner, ProductVersion, Project, Renewal, Subscription, SubscriptionInput, SubscriptionLevel, User } from '../api/types';
import { useSignedIn } from '../core/context';
import { FormCard, useFormValues } from '../core/form';
import { PagedTable } from '../core/list';
import { CheckField, ConfirmButton, DeleteAction, ErrorView, Link, LoadedName, Loading, NotFoundScreen, Notice, Pending, SelectField, TextArea, TextField, useLoad, usePaged, useSubmit } from '../core/ui';
import { useFormatDate, useStrings } from '../i18n';
import { ProjectForm } from './Customer';
import { SubscriptionRequest } from './SubscriptionRequest';
import { Tickets } from './Tickets';


/** ProjectView shows a project with its entitlement, subscriptions, people and tickets. */
export function ProjectView({ projectId }: { projectId?: string }) {
  const formatDate = useFormatDate();
  const strings = useStrings();
  const t = strings.project;
  const { api, me, navigate } = useSignedIn();
  const id = projectId ?? '';
  const cat = useCatalogue();
  const [deleted, setDeleted] = useState<Project>();
  const [editing, setEditing] = useState(false);
  const [requesting, setRequesting] = useState(false);
  const [notice, setNotice] = useState<string>();
  const project = useLoad(() => callTagged(api.GET('/projects/{projectId}', { params: { path: { projectId: id } } })), [api, id]);
  const entitlement = useLoad(() => call(api.GET('/projects/{projectId}/entitlement', { params: { path: { projectId: id } } })), [api, id]);
  const back = { to: '#/customers', label: strings.customers.back };
  if (!projectId) return <NotFoundScreen back={back} />;
  if (deleted) {
    return (
      <section aria-labelledby="cp-project-h">
        <h2 id="cp-project-h">{t.heading(deleted.name)}</h2>
        <Notice>{t.deleted(deleted.name)}</Notice>
        <p>
          <Link to={`#/customers/${deleted.customerId}`}>
            <CustomerName customerId={deleted.customerId} />
          </Link>
        </p>
      </section>
    );
  }
  if (!project.data) return <Pending load={project} back={back} />;
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
                  formatDate(entitlement.data.subscription.startDate),
                  formatDate(entitlement.data.subscription.endDate),
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
  const strings = useStrings();
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
  const t = useStrings().project;
  const { api } = useSignedIn();
  const [reason, setReason] = useState('');
  const submit = useSubmit(['reason']);
  const reject = async () => {
    onDone(await call(api.POST('/subscriptions/{id}/reject', { params: { path: { id: sub.id } }, body: { reason: reason.trim() } })));
  };
  return (
    <FormCard submit={submit} heading={t.rejectHeading} level="h4" submitLabel={t.reject} danger disabled={!reason.trim()} onSubmit={reject} onCancel={onCancel}>
      <TextArea label={t.rejectReason} required maxLength={1024} value={reason} onChange={(e) => setReason(e.target.value)} error={submit.fieldErrors.reason} autoFocus />
    </FormCard>
  );
}

/** RenewForm renews an active or expired subscription; only terms that differ are sent. */
function RenewForm({ sub, cat, onDone, onCancel }: { sub: Subscription; cat: Catalogue; onDone: (s: Subscription) => void; onCancel: () => void }) {
  const t = useStrings().project;
  const { api } = useSignedIn();
  const [v, setV] = useState({ levelId: sub.levelId, productVersionId: sub.productVersionId, lengthMonths: String(sub.lengthMonths) });
  const submit = useSubmit(['levelId', 'productVersionId', 'lengthMonths']);
  const renew = async () => {
    const body: Renewal = {};
    if (v.levelId !== sub.levelId) body.levelId = v.levelId;
    if (v.productVersionId !== sub.productVersionId) body.productVersionId = v.productVersionId;
    if (Number(v.lengthMonths) !== sub.lengthMonths) body.lengthMonths = Number(v.lengthMonths);
    onDone(await call(api.POST('/subscriptions/{id}/renew', { params: { path: { id: sub.id } }, body })));
  };
  return (
    <FormCard submit={submit} heading={t.renewHeading} level="h4" hint={t.renewHint} submitLabel={t.renew} onSubmit={renew} onCancel={onCancel}>
      <LevelVersionFields
        cat={cat}
        levelId={v.levelId}
        productVersionId={v.productVersionId}
        onLevel={(levelId) => setV((x) => ({ ...x, levelId }))}
        onVersion={(productVersionId) => setV((x) => ({ ...x, productVersionId }))}
        errors={submit.fieldErrors}
      />
      <LengthField value={v.lengthMonths} onChange={(lengthMonths) => setV((x) => ({ ...x, lengthMonths }))} error={submit.fieldErrors.lengthMonths} />
    </FormCard>
  );
}

function LengthField({ value, onChange, error }: { value: string; onChange: (v: string) => void; error?: string }) {
  const t = useStrings().project;
  return <TextField label={t.lengthMonths} type="number" min={1} max={120} required value={value} onChange={(e) => onChange(e.target.value)} error={error} />;
}

/** EditSubscriptionForm changes a subscription's terms with If-Match from a fresh read. */
function EditSubscriptionForm({ sub, cat, onDone, onCancel }: { sub: Subscription; cat: Catalogue; onDone: (s: Subscription) => void; onCancel: () => void }) {
  const t = useStrings().project;
  const { api } = useSignedIn();
  const form = useFormValues(
    { levelId: sub.levelId, productVersionId: sub.productVersionId, startDate: sub.startDate, lengthMonths: String(sub.lengthMonths) },
    {
      load: () => callTagged(api.GET('/subscriptions/{id}', { params: { path: { id: sub.id } } })),
      values: (s: Subscription) => ({ levelId: s.levelId, productVersionId: s.productVersionId, startDate: s.startDate, lengthMonths: String(s.lengthMonths) }),
    },
    [api, sub.id],
  );
  const submit = useSubmit(['levelId', 'productVersionId', 'startDate', 'lengthMonths']);
  if (form.pending) return form.pending;
  const { values: vals, setValues, etag } = form;
  const set = (patch: Partial<typeof vals>) => setValues((v) => ({ ...v, ...patch }));
  const save = async () => {
    const body: SubscriptionInput = { levelId: vals.levelId, productVersionId: vals.productVersionId, startDate: vals.startDate, lengthMonths: Number(vals.lengthMonths) };
    onDone(await call(api.PUT('/subscriptions/{id}', { params: { path: { id: sub.id }, header: { 'If-Match': etag } }, body })));
  };
  return (
    <FormCard submit={submit} heading={t.editSubscriptionHeading} level="h4" hint={t.editSubscriptionHint} onSubmit={save} onCancel={onCancel}>
      <LevelVersionFields
        cat={cat}
        levelId={vals.levelId}
        productVersionId={vals.productVersionId}
        onLevel={(levelId) => set({ levelId })}
        onVersion={(productVersionId) => set({ productVersionId })}
        errors={submit.fieldErrors}
      />
      <TextField label={t.start} type="date" required value={vals.startDate} onChange={(e) => set({ startDate: e.target.value })} error={submit.fieldErrors.startDate} />
      <LengthField value={vals.lengthMonths} onChange={(lengthMonths) => set({ lengthMonths })} error={submit.fieldErrors.lengthMonths} />
    </FormCard>
  );
}

type SubMode = { kind: 'reject' | 'renew' | 'edit'; sub: Subscription };

function Subscriptions({ projectId, cat, onChange }: { projectId: string; cat: Catalogue; onChange: () => void }) {
  const formatDate = useFormatDate();
  const strings = useStrings();
  const t = strings.project;
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
      <PagedTable
        paged={subs}
        label={t.subscriptionsTable}
        empty={t.noSubscriptions}
        rowKey={(s) => s.id}
        columns={[
          { header: t.level, cell: (s) => cat.levelName(s.levelId) },
          { header: t.productVersion, cell: (s) => cat.versionName(s.productVersionId) },
          { header: t.start, cell: (s) => formatDate(s.startDate) },
          { header: t.end, cell: (s) => formatDate(s.endDate) },
          {
            header: t.status,
            cell: (s) => (
              <>
                {t.subscriptionStatus(s.status)}
                {s.rejectionReason && <span className="cp-muted"> ({s.rejectionReason})</span>}
              </>
            ),
          },
        ]}
        actionsLabel={(s) => t.subscriptionActions(cat.levelName(s.levelId), formatDate(s.startDate))}
        actions={
          showActions
            ? (s) => (
                <>
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
                  {mayRenew && (s.status === 'ACTIVE' || s.status === 'EXPIRED') && (
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
                </>
              )
            : undefined
        }
      />
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
  const strings = useStrings();
  const t = strings.project;
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
      <PagedTable
        paged={users}
        label={t.usersTable}
        empty={t.noUsers}
        rowKey={(u) => u.id}
        columns={[
          { header: t.username, cell: (u) => u.username },
          { header: t.email, cell: (u) => u.email || strings.common.none },
          project.ticketVisibility === 'own' && { header: t.seesAllTickets, cell: (u) => (u.seesAllTickets ? strings.common.yes : strings.common.no) },
        ]}
        actions={
          manage
            ? (u) => (
                <button type="button" className="cp-button cp-danger" disabled={remove.busy} onClick={() => unassign(u)}>
                  {t.unassign(u.username)}
                </button>
              )
            : undefined
        }
      />
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
  const strings = useStrings();
  const t = strings.project;
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
      <PagedTable
        paged={partners}
        label={t.partnersTable}
        empty={t.noPartners}
        rowKey={(p) => p.id}
        columns={[
          { header: strings.common.name, cell: (p) => <Link to={`#/partners/${p.id}`}>{p.name}</Link> },
          { header: t.partnerNumber, cell: (p) => p.partnerNumber },
        ]}
        actions={manage ? (p) => <ConfirmButton label={t.unlink(p.name)} confirm={t.unlink(p.name) + '?'} onConfirm={() => unlink(p)} disabled={link.busy} /> : undefined}
      />
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

/** CustomerName names a project's customer (getCustomer), so that the link to it says which one. */
function CustomerName({ customerId }: { customerId: string }) {
  const t = useStrings().project;
  const { api } = useSignedIn();
  return (
    <LoadedName
      id={customerId}
      read={(id) => call(api.GET('/customers/{customerId}', { params: { path: { customerId: id } } }))}
      loading={t.customerLoading}
      fallback={t.customerUnnamed(customerId)}
    />
  );
}
