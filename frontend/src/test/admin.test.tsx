import { fireEvent, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ADMIN, CUSTOMER, fakeApi, ids, json, mount, problem } from './harness';

const user = (n: number, extra: Record<string, unknown> = {}) => ({
  id: `00000000-0000-7000-8000-0000000002${String(n).padStart(2, '0')}`,
  username: `user${n}`,
  email: `user${n}@example.com`,
  roles: ['cp-customer'],
  enabled: true,
  invitationPending: false,
  createdAt: '',
  updatedAt: '',
  ...extra,
});

describe('<cp-users>', () => {
  it('invites a user and reports the email field error next to it', async () => {
    const api = fakeApi({
      'GET /api/v1/me': ADMIN,
      'GET /api/v1/users': { items: [user(1)] },
      'POST /api/v1/users': (c, n) =>
        n === 1 ? problem(409, { title: 'Conflict', detail: 'A user with this email exists.', errors: [{ field: 'email', message: 'already taken' }] }) : json(201, { ...user(2), ...c.body, roles: [c.body.role], emailVerified: false, projects: [] }),
    });
    const { screen } = await mount('cp-users');
    await screen.findByRole('table', { name: 'Portal users' });
    fireEvent.click(screen.getByRole('button', { name: 'Invite user' }));
    const email = screen.getByLabelText(/^Email/);
    fireEvent.change(email, { target: { value: 'new@example.com' } });
    fireEvent.change(within(screen.getByRole('form', { name: 'Invite a user' })).getByLabelText(/^Role/), { target: { value: 'cp-partner' } });
    fireEvent.click(screen.getByRole('button', { name: 'Invite user' }));
    await waitFor(() => expect(email.getAttribute('aria-invalid')).toBe('true'));
    expect(screen.getByText('already taken')).toBeTruthy();
    fireEvent.change(email, { target: { value: 'other@example.com' } });
    fireEvent.click(screen.getByRole('button', { name: 'Invite user' }));
    await screen.findByText('user2 was invited.');
    expect(api.sent('POST', '/users')[1].body).toEqual({ email: 'other@example.com', role: 'cp-partner' });
  });

  it('changes roles, disables and resends invitations, but not for oneself', async () => {
    const pending = user(3, { invitationPending: true });
    const api = fakeApi({
      'GET /api/v1/me': ADMIN,
      'GET /api/v1/users': { items: [user(1), pending, user(9, { id: ADMIN.id, username: 'ada', roles: ['cp-admin'] })] },
      [`PUT /api/v1/users/${user(1).id}/role`]: (c) => user(1, { roles: [c.body.role] }),
      [`PUT /api/v1/users/${user(1).id}/enabled`]: (c) => user(1, { enabled: c.body.enabled }),
      [`POST /api/v1/users/${pending.id}/invitation`]: () => undefined,
    });
    const { screen } = await mount('cp-users');
    fireEvent.change(await screen.findByLabelText('Role of user1'), { target: { value: 'cp-support' } });
    await screen.findByText('user1 is now Support.');
    fireEvent.click(screen.getByRole('button', { name: 'Disable user1' }));
    await screen.findByRole('button', { name: 'Enable user1' });
    fireEvent.click(screen.getByRole('button', { name: 'Resend invitation to user3' }));
    await screen.findByText('Invitation sent again to user3.');
    expect(api.sent('PUT', `/users/${user(1).id}/role`)[0].body).toEqual({ role: 'cp-support' });
    expect(api.sent('PUT', `/users/${user(1).id}/enabled`)[0].body).toEqual({ enabled: false });
    expect((screen.getByLabelText('Role of ada') as HTMLSelectElement).disabled).toBe(true);
    expect(screen.queryByRole('button', { name: 'Disable ada' })).toBeNull();
  });

  it('is refused to non-admins without calling the API', async () => {
    const api = fakeApi({ 'GET /api/v1/me': CUSTOMER });
    const { screen } = await mount('cp-users');
    await screen.findByText('You are not allowed to do this.');
    expect(api.sent('GET', '/users')).toHaveLength(0);
  });
});

describe('<cp-admin-ticketing> for non-admins', () => {
  it('asks nothing of the API', async () => {
    const api = fakeApi({ 'GET /api/v1/me': CUSTOMER });
    const { screen } = await mount('cp-admin-ticketing');
    await screen.findByText('You are not allowed to do this.');
    expect(api.calls.map((c) => c.path)).toEqual(['/api/v1/me']);
  });
});

const settings = {
  provider: 'jira',
  siteUrl: 'https://acme.atlassian.net',
  email: 'bot@acme.com',
  apiTokenSet: true,
  serviceDeskId: '1',
  requestTypes: [{ ticketTypeId: ids.type, requestTypeId: '10' }],
  priorities: [],
  webhookSecretSet: false,
  sync: { stale: false, lastSuccessAt: '2026-01-01T00:00:00Z' },
};

describe('<cp-admin-ticketing>', () => {
  it('never shows the stored token and sends one only when typed', async () => {
    const api = fakeApi({
      'GET /api/v1/me': ADMIN,
      'GET /api/v1/admin/ticketing': settings,
      'GET /api/v1/ticket-types': { items: [{ id: ids.type, name: 'Incident', description: '', active: true, createdAt: '', updatedAt: '' }] },
      'PUT /api/v1/admin/ticketing': (c) => ({ ...settings, ...c.body, apiToken: undefined, apiTokenSet: true }),
    });
    const { screen } = await mount('cp-admin-ticketing');
    const token = (await screen.findByLabelText('API token')) as HTMLInputElement;
    expect(token.type).toBe('password');
    expect(token.value).toBe('');
    expect(screen.getByText('A token is stored. Leave empty to keep it.')).toBeTruthy();
    expect((await screen.findByLabelText('Request type id for Incident') as HTMLInputElement).value).toBe('10');
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await screen.findByText('Ticketing settings saved.');
    const first = api.sent('PUT', '/admin/ticketing')[0].body;
    expect(first).not.toHaveProperty('apiToken');
    expect(first).toMatchObject({ provider: 'jira', siteUrl: 'https://acme.atlassian.net', serviceDeskId: '1', requestTypes: [{ ticketTypeId: ids.type, requestTypeId: '10' }] });
    const tokenAgain = screen.getByLabelText('API token');
    expect(tokenAgain).toBe(token);
    fireEvent.change(tokenAgain, { target: { value: 's3cret' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(api.sent('PUT', '/admin/ticketing')).toHaveLength(2));
    expect(api.sent('PUT', '/admin/ticketing')[1].body.apiToken).toBe('s3cret');
  });

  it('saves with If-Match carrying the ETag it read, then the one of its own save', async () => {
    const api = fakeApi({
      'GET /api/v1/me': ADMIN,
      'GET /api/v1/admin/ticketing': json(200, settings, { ETag: '"3"' }),
      'GET /api/v1/ticket-types': { items: [] },
      'PUT /api/v1/admin/ticketing': (c, n) => json(200, { ...settings, ...c.body }, { ETag: `"${3 + n}"` }),
    });
    const { screen } = await mount('cp-admin-ticketing');
    fireEvent.click(await screen.findByRole('button', { name: 'Save' }));
    await screen.findByText('Ticketing settings saved.');
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(api.sent('PUT', '/admin/ticketing')).toHaveLength(2));
    expect(api.sent('PUT', '/admin/ticketing').map((c) => c.headers.get('If-Match'))).toEqual(['"3"', '"4"']);
  });

  it('says on 412 that someone else changed the settings, and reloads theirs', async () => {
    const theirs = { ...settings, siteUrl: 'https://other.atlassian.net' };
    const api = fakeApi({
      'GET /api/v1/me': ADMIN,
      'GET /api/v1/admin/ticketing': (_c, n) => (n === 1 ? json(200, settings, { ETag: '"3"' }) : json(200, theirs, { ETag: '"4"' })),
      'GET /api/v1/ticket-types': { items: [] },
      'PUT /api/v1/admin/ticketing': (c, n) =>
        n === 1
          ? problem(412, { type: 'urn:customer-portal:problem:precondition-failed', title: 'Precondition failed', detail: 'the object changed since you read it (its ETag is now "4")' })
          : json(200, { ...theirs, ...c.body }, { ETag: '"5"' }),
    });
    const { screen } = await mount('cp-admin-ticketing');
    fireEvent.change(await screen.findByLabelText('Service desk id'), { target: { value: '2' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Someone else changed these settings; reload');
    expect(screen.queryByText('Ticketing settings saved.')).toBeNull();
    expect(api.sent('PUT', '/admin/ticketing')[0].headers.get('If-Match')).toBe('"3"');

    fireEvent.click(within(alert).getByRole('button', { name: 'Reload settings' }));
    expect(((await screen.findByDisplayValue('https://other.atlassian.net')) as HTMLInputElement).value).toBe('https://other.atlassian.net');
    expect(api.sent('GET', '/admin/ticketing')).toHaveLength(2);
    expect(screen.queryByRole('alert')).toBeNull();
    expect((screen.getByLabelText('Service desk id') as HTMLInputElement).value).toBe('1');
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await screen.findByText('Ticketing settings saved.');
    const second = api.sent('PUT', '/admin/ticketing')[1];
    expect(second.headers.get('If-Match')).toBe('"4"');
    expect(second.body).toMatchObject({ siteUrl: 'https://other.atlassian.net' });
  });

  it('shows the diagnosis of the Test button', async () => {
    const api = fakeApi({
      'GET /api/v1/me': ADMIN,
      'GET /api/v1/admin/ticketing': settings,
      'GET /api/v1/ticket-types': { items: [] },
      'POST /api/v1/admin/ticketing/test': { ok: false, problems: ['The API token was rejected by Jira.'] },
    });
    const { screen } = await mount('cp-admin-ticketing');
    fireEvent.click(await screen.findByRole('button', { name: 'Test connection' }));
    await screen.findByText('The API token was rejected by Jira.');
    expect(api.sent('POST', '/admin/ticketing/test')).toHaveLength(1);
  });
});

describe('<cp-admin-catalogue>', () => {
  it('creates a product version and a level with SLA targets', async () => {
    const api = fakeApi({
      'GET /api/v1/me': ADMIN,
      'GET /api/v1/product-versions': { items: [] },
      'GET /api/v1/subscription-levels': { items: [] },
      'GET /api/v1/ticket-types': { items: [] },
      'POST /api/v1/product-versions': (c) => json(201, { id: 'x', ...c.body, createdAt: '', updatedAt: '' }),
      'POST /api/v1/subscription-levels': (c) => json(201, { id: 'y', ...c.body, createdAt: '', updatedAt: '' }),
    });
    const { screen } = await mount('cp-admin-catalogue');
    fireEvent.click(await screen.findByRole('button', { name: 'New product version' }));
    fireEvent.change(screen.getByLabelText(/^Name/), { target: { value: '7.0' } });
    fireEvent.change(screen.getByLabelText(/^Start date/), { target: { value: '2026-02-01' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(api.sent('POST', '/product-versions')).toHaveLength(1));
    expect(api.sent('POST', '/product-versions')[0].body).toEqual({ name: '7.0', startDate: '2026-02-01', active: true });

    fireEvent.click(await screen.findByRole('button', { name: 'New subscription level' }));
    fireEvent.change(screen.getByLabelText(/^Name/), { target: { value: 'GOLD' } });
    fireEvent.change(screen.getByLabelText(/^Rank/), { target: { value: '20' } });
    fireEvent.change(screen.getByLabelText('First response, Critical'), { target: { value: '1' } });
    fireEvent.change(screen.getByLabelText('Resolution, Critical'), { target: { value: '8' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(api.sent('POST', '/subscription-levels')).toHaveLength(1));
    expect(api.sent('POST', '/subscription-levels')[0].body).toEqual({
      name: 'GOLD',
      rank: 20,
      slaTargets: [{ priority: 'critical', firstResponseHours: 1, resolutionHours: 8 }],
    });
  });

  it('shows lists without write actions to support', async () => {
    fakeApi({
      'GET /api/v1/me': { ...ADMIN, roles: ['cp-support'], permissions: { ...ADMIN.permissions, manageCatalogue: false } },
      'GET /api/v1/product-versions': { items: [{ id: 'v', name: '6.5', active: true, startDate: '2025-01-01', createdAt: '', updatedAt: '' }] },
      'GET /api/v1/subscription-levels': { items: [] },
      'GET /api/v1/ticket-types': { items: [] },
    });
    const { screen } = await mount('cp-admin-catalogue');
    await screen.findByText('6.5');
    expect(screen.queryByRole('button', { name: /^New / })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Edit 6.5' })).toBeNull();
  });
});
