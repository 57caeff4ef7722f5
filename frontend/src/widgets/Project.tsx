import { useState, type FormEvent } from 'react';
import { call, callTagged } from '../api/client';
import type { Partner, Project, Subscription, User } from '../api/types';
import { useSignedIn } from '../core/context';
import {
  CheckField,
  ConfirmButton,
  Empty,
  ErrorView,
  Link,
  Loading,
  Notice,
  PagedFooter,
  SelectField,
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
  const { api, me } = useSignedIn();
  const id = projectId ?? '';
  const [editing, setEditing] = useState(false);
  const [requesting, setRequesting] = useState(false);
  const [notice, setNotice] = useState<string>();
  const project = useLoad(() => callTagged(api.GET('/projects/{projectId}', { params: { path: { projectId: id } } })), [api, id]);
  const entitlement = useLoad(() => call(api.GET('/projects/{projectId}/entitlement', { params: { path: { projectId: id } } })), [api, id]);
  if (!projectId) return <ErrorView error={new Error(strings.errors.notFound)} />;
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
              <Link to={`#/customers/${p.customerId}`}>{t.customer}</Link>
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
            <button type="button" className="cp-button" onClick={() => setEditing(true)}>
              {strings.common.edit}
            </button>
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

      <Subscriptions projectId={p.id} onChange={entitlement.reload} />
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

function Subscriptions({ projectId, onChange }: { projectId: string; onChange: () => void }) {
  const { api, me } = useSignedIn();
  const manage = me.permissions.manageSubscriptions;
  const subs = usePaged<Subscription>(
    (cursor) => call(api.GET('/projects/{projectId}/subscriptions', { params: { path: { projectId }, query: { cursor } } })),
    [api, projectId],
  );
  const levels = useLoad(() => call(api.GET('/subscription-levels', { params: { query: { limit: 200 } } })), [api]);
  const versions = useLoad(() => call(api.GET('/product-versions', { params: { query: { limit: 200 } } })), [api]);
  const [rejecting, setRejecting] = useState<string>();
  const [reason, setReason] = useState('');
  const action = useSubmit(['reason']);
  const levelName = (id: string) => levels.data?.items.find((l) => l.id === id)?.name ?? id;
  const versionName = (id: string) => versions.data?.items.find((v) => v.id === id)?.name ?? id;
  const replace = (s: Subscription) => {
    subs.setItems((xs) => xs.map((x) => (x.id === s.id ? s : x)));
    onChange();
  };
  const approve = (id: string) =>
    void action.run(async () => replace(await call(api.POST('/subscriptions/{id}/approve', { params: { path: { id } } }))));
  const reject = (e: FormEvent) => {
    e.preventDefault();
    const id = rejecting!;
    void action.run(async () => {
      replace(await call(api.POST('/subscriptions/{id}/reject', { params: { path: { id } }, body: { reason: reason.trim() } })));
      setRejecting(undefined);
      setReason('');
    });
  };
  return (
    <>
      <h3>{t.subscriptions}</h3>
      {action.error !== undefined && !rejecting && action.summary}
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
                {manage && <th scope="col">{strings.common.actions}</th>}
              </tr>
            </thead>
            <tbody>
              {subs.items.map((s) => (
                <tr key={s.id}>
                  <td>{levelName(s.levelId)}</td>
                  <td>{versionName(s.productVersionId)}</td>
                  <td>{s.startDate}</td>
                  <td>{s.endDate}</td>
                  <td>
                    {t.subscriptionStatus(s.status)}
                    {s.rejectionReason && <span className="cp-muted"> ({s.rejectionReason})</span>}
                  </td>
                  {manage && (
                    <td>
                      {s.status === 'REQUESTED' && (
                        <span className="cp-toolbar">
                          <button type="button" className="cp-button" disabled={action.busy} onClick={() => approve(s.id)}>
                            {t.approve}
                          </button>
                          <button type="button" className="cp-button cp-danger" onClick={() => setRejecting(s.id)}>
                            {t.reject}
                          </button>
                        </span>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {manage && rejecting && (
        <form ref={action.formRef} onSubmit={reject} noValidate className="cp-card" aria-label={t.reject}>
          {action.summary}
          <TextField label={t.rejectReason} required value={reason} onChange={(e) => setReason(e.target.value)} error={action.fieldErrors.reason} autoFocus />
          <div className="cp-toolbar">
            <button type="submit" className="cp-button cp-danger" disabled={action.busy}>
              {t.reject}
            </button>
            <button type="button" className="cp-button" onClick={() => setRejecting(undefined)}>
              {strings.common.cancel}
            </button>
          </div>
        </form>
      )}
      <PagedFooter paged={subs} />
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
                  <td>{p.name}</td>
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

