import { useState } from 'react';
import { call } from '../api/client';
import type { PortalUser, Project, Role } from '../api/types';
import { useSignedIn } from '../core/context';
import { FormCard, useFormValues } from '../core/form';
import { PagedTable, SearchBar } from '../core/list';
import { DeleteAction, Empty, Link, Notice, PagedFooter, SelectField, TextField, opt, usePaged, useSubmit } from '../core/ui';
import { useStrings } from '../i18n';

const ROLES: Role[] = ['cp-admin', 'cp-support', 'cp-partner', 'cp-customer'];
const INVITE_FIELDS = ['username', 'email', 'firstName', 'lastName', 'role', 'projectIds'] as const;

function InviteForm({ onDone, onCancel }: { onDone: (u: PortalUser) => void; onCancel: () => void }) {
  const t = useStrings().users;
  const { api } = useSignedIn();
  const { values: v, set } = useFormValues({ username: '', email: '', firstName: '', lastName: '', role: 'cp-customer' });
  const submit = useSubmit(INVITE_FIELDS);
  const fe = submit.fieldErrors;
  const invite = async () => {
    const u = await call(
      api.POST('/users', {
        body: { email: v.email.trim(), role: v.role as Role, username: opt(v.username), firstName: opt(v.firstName), lastName: opt(v.lastName) },
      }),
    );
    onDone(u);
  };
  return (
    <FormCard submit={submit} heading={t.inviteHeading} submitLabel={t.invite} onSubmit={invite} onCancel={onCancel}>
      <TextField label={t.email} type="email" required value={v.email} onChange={set('email')} error={fe.email} autoFocus />
      <TextField label={t.username} hint={t.usernameHint} value={v.username} onChange={set('username')} error={fe.username} />
      <TextField label={t.firstName} value={v.firstName} onChange={set('firstName')} error={fe.firstName} />
      <TextField label={t.lastName} value={v.lastName} onChange={set('lastName')} error={fe.lastName} />
      <SelectField label={t.role} required value={v.role} onChange={set('role')} error={fe.role}>
        <RoleOptions />
      </SelectField>
    </FormCard>
  );
}

function RoleOptions() {
  const strings = useStrings();
  return (
    <>
      {ROLES.map((r) => (
        <option key={r} value={r}>
          {strings.roles.name(r)}
        </option>
      ))}
    </>
  );
}

/** UserProjects lists the projects a user is assigned to (listUserProjects), paged. */
function UserProjects({ user, onClose }: { user: PortalUser; onClose: () => void }) {
  const t = useStrings().users;
  const { api } = useSignedIn();
  const projects = usePaged<Project>(
    (cursor) => call(api.GET('/users/{userId}/projects', { params: { path: { userId: user.id }, query: { cursor } } })),
    [api, user.id],
  );
  return (
    <section className="cp-card" aria-labelledby="cp-user-projects-h" id="cp-user-projects">
      <h3 id="cp-user-projects-h">{t.projectsHeading(user.username)}</h3>
      {!projects.loading && projects.error === undefined && projects.items.length === 0 && <Empty>{t.noProjects}</Empty>}
      {projects.items.length > 0 && (
        <ul aria-label={t.projectsTable(user.username)}>
          {projects.items.map((p) => (
            <li key={p.id}>
              <Link to={`#/projects/${p.id}`}>{p.name}</Link>
            </li>
          ))}
        </ul>
      )}
      <PagedFooter paged={projects} />
      <button type="button" className="cp-button" onClick={onClose}>
        {t.hideProjects}
      </button>
    </section>
  );
}

/** Users is the admin's list of portal users: invite, change role, enable/disable, resend invitations. */
export function Users() {
  const strings = useStrings();
  const t = strings.users;
  const { api, me } = useSignedIn();
  const [role, setRole] = useState('');
  const [filters, setFilters] = useState<{ q?: string; role?: Role }>({});
  const [inviting, setInviting] = useState(false);
  const [notice, setNotice] = useState<string>();
  const [showing, setShowing] = useState<PortalUser>();
  const action = useSubmit([]);
  const allowed = me.permissions.manageUsers;
  const paged = usePaged<PortalUser>(
    (cursor) => (allowed ? call(api.GET('/users', { params: { query: { ...filters, cursor } } })) : Promise.resolve({ items: [] })),
    [api, allowed, filters.q, filters.role],
  );
  if (!allowed) return <p>{strings.errors.forbidden}</p>;
  const replace = (u: PortalUser) => paged.setItems((xs) => xs.map((x) => (x.id === u.id ? u : x)));
  const setUserRole = (u: PortalUser, r: Role) =>
    void action.run(async () => {
      replace(await call(api.PUT('/users/{userId}/role', { params: { path: { userId: u.id } }, body: { role: r } })));
      setNotice(t.roleChanged(u.username, strings.roles.name(r)));
    });
  const setEnabled = (u: PortalUser, enabled: boolean) =>
    void action.run(async () => {
      replace(await call(api.PUT('/users/{userId}/enabled', { params: { path: { userId: u.id } }, body: { enabled } })));
    });
  const resend = (u: PortalUser) =>
    void action.run(async () => {
      await call(api.POST('/users/{userId}/invitation', { params: { path: { userId: u.id } } }));
      setNotice(t.resent(u.username));
    });
  const passwordReset = (u: PortalUser) =>
    void action.run(async () => {
      setNotice(undefined);
      await call(api.POST('/users/{userId}/password-reset', { params: { path: { userId: u.id } } }));
      setNotice(t.passwordResetSent(u.username));
    });
  return (
    <section aria-labelledby="cp-users-h">
      <h2 id="cp-users-h">{t.heading}</h2>
      <div className="cp-toolbar">
        <SearchBar label={t.searchLabel} onSearch={(q) => setFilters({ q: q || undefined, role: (role || undefined) as Role | undefined })}>
          <SelectField label={t.roleFilter} value={role} onChange={(e) => setRole(e.target.value)}>
            <option value="">{strings.common.any}</option>
            <RoleOptions />
          </SelectField>
        </SearchBar>
        {!inviting && (
          <button type="button" className="cp-button cp-primary" onClick={() => { setNotice(undefined); setInviting(true); }}>
            {t.invite}
          </button>
        )}
      </div>
      {notice && <Notice>{notice}</Notice>}
      {action.summary}
      {inviting && (
        <InviteForm
          onCancel={() => setInviting(false)}
          onDone={(u) => {
            setInviting(false);
            setNotice(t.invited(u.username));
            paged.reload();
          }}
        />
      )}
      <PagedTable
        paged={paged}
        label={t.tableLabel}
        empty={t.empty}
        rowKey={(u) => u.id}
        columns={[
          { header: t.username, cell: (u) => u.username },
          { header: t.email, cell: (u) => u.email || strings.common.none },
          {
            header: t.role,
            cell: (u) => (
              <select aria-label={t.roleFor(u.username)} value={u.roles[0] ?? ''} disabled={u.id === me.id || action.busy} onChange={(e) => setUserRole(u, e.target.value as Role)}>
                <RoleOptions />
              </select>
            ),
          },
          { header: t.state, cell: (u) => (u.invitationPending ? t.invitationPending : u.enabled ? t.active : t.disabled) },
        ]}
        actions={(u) => {
          const self = u.id === me.id;
          return (
            <>
              {!self && (
                <button type="button" className="cp-button" disabled={action.busy} onClick={() => setEnabled(u, !u.enabled)}>
                  {u.enabled ? t.disable(u.username) : t.enable(u.username)}
                </button>
              )}
              {u.invitationPending && (
                <button type="button" className="cp-button" disabled={action.busy} onClick={() => resend(u)}>
                  {t.resend(u.username)}
                </button>
              )}
              {!u.invitationPending && u.enabled && (
                <button type="button" className="cp-button" disabled={action.busy} onClick={() => passwordReset(u)}>
                  {t.passwordReset(u.username)}
                </button>
              )}
              <button
                type="button"
                className="cp-button"
                aria-expanded={showing?.id === u.id}
                aria-controls={showing?.id === u.id ? 'cp-user-projects' : undefined}
                onClick={() => setShowing(showing?.id === u.id ? undefined : u)}
              >
                {t.showProjects(u.username)}
              </button>
              {!self && (
                <DeleteAction
                  label={t.deleteUser(u.username)}
                  confirm={t.deleteConfirm(u.username)}
                  onDelete={() => call(api.DELETE('/users/{userId}', { params: { path: { userId: u.id } } }))}
                  onDeleted={() => {
                    paged.setItems((xs) => xs.filter((x) => x.id !== u.id));
                    if (showing?.id === u.id) setShowing(undefined);
                    setNotice(t.deleted(u.username));
                  }}
                />
              )}
            </>
          );
        }}
      />
      {showing && <UserProjects key={showing.id} user={showing} onClose={() => setShowing(undefined)} />}
    </section>
  );
}
