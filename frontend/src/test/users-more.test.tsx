import { fireEvent, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ADMIN, SUPPORT, fakeApi, ids, mount, problem } from './harness';

const user = (n: number, extra: Record<string, unknown> = {}) => ({
  id: `00000000-0000-7000-8000-0000000003${String(n).padStart(2, '0')}`,
  username: `user${n}`,
  email: `user${n}@example.com`,
  roles: ['cp-customer'],
  enabled: true,
  invitationPending: false,
  createdAt: '',
  updatedAt: '',
  ...extra,
});
const proj = (n: number) => ({ id: `00000000-0000-7000-8000-000000000a${String(n).padStart(2, '0')}`, customerId: ids.customer, name: `Project ${n}`, description: '', ticketVisibility: 'project', contactName: '', contactPhone: '', contactEmail: '', createdAt: '', updatedAt: '' });
const customerDoc = { id: ids.customer, name: 'Acme', customerNumber: 'C-1', contactName: '', contactPhone: '', contactEmail: '', createdAt: '', updatedAt: '' };

describe('<cp-users> more actions', () => {
  it('sends a password reset, resends only missing invitations, and deletes after confirmation (never oneself)', async () => {
    const u1 = user(1);
    const pending = user(2, { invitationPending: true });
    const api = fakeApi({
      'GET /api/v1/me': ADMIN,
      'GET /api/v1/users': { items: [u1, pending, user(9, { id: ADMIN.id, username: 'ada', roles: ['cp-admin'] })] },
      [`POST /api/v1/users/${u1.id}/password-reset`]: () => undefined,
      [`DELETE /api/v1/users/${u1.id}`]: () => undefined,
      [`DELETE /api/v1/users/${pending.id}`]: problem(409, { title: 'Conflict', detail: 'the last enabled cp-admin cannot be deleted' }),
    });
    const { screen } = await mount('cp-users');
    fireEvent.click(await screen.findByRole('button', { name: 'Send password reset to user1' }));
    await screen.findByText('A password reset link was sent to user1.');
    expect(api.sent('POST', `/users/${u1.id}/password-reset`)).toHaveLength(1);
    expect(screen.queryByRole('button', { name: 'Resend invitation to user1' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Send password reset to user2' })).toBeNull();
    expect(screen.getByRole('button', { name: 'Resend invitation to user2' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Delete ada' })).toBeNull();

    fireEvent.click(screen.getByRole('button', { name: 'Delete user2' }));
    fireEvent.click(within(screen.getByRole('group', { name: /^Delete user2 and their project assignments/ })).getByRole('button', { name: 'Yes' }));
    await screen.findByText('This cannot be deleted: The last enabled cp-admin cannot be deleted.');

    fireEvent.click(screen.getByRole('button', { name: 'Delete user1' }));
    expect(api.sent('DELETE', `/users/${u1.id}`)).toHaveLength(0);
    fireEvent.click(within(screen.getByRole('group', { name: /^Delete user1 and their project assignments/ })).getByRole('button', { name: 'Yes' }));
    await screen.findByText('user1 was deleted.');
    expect(api.sent('DELETE', `/users/${u1.id}`)).toHaveLength(1);
    expect(screen.queryByText('user1@example.com')).toBeNull();
  });

  it("shows a user's projects with paging", async () => {
    const u1 = user(1);
    const api = fakeApi({
      'GET /api/v1/me': ADMIN,
      'GET /api/v1/users': { items: [u1] },
      [`GET /api/v1/users/${u1.id}/projects`]: (c) => (c.query.get('cursor') === 'p2' ? { items: [proj(2)] } : { items: [proj(1)], nextCursor: 'p2' }),
      [`GET /api/v1/customers/${ids.customer}`]: customerDoc,
    });
    const { screen } = await mount('cp-users');
    const toggle = await screen.findByRole('button', { name: 'Projects of user1' });
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    fireEvent.click(toggle);
    const list = await screen.findByRole('list', { name: 'Projects user1 is assigned to' });
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    expect(within(list).getByRole('link', { name: 'Project 1' }).getAttribute('href')).toBe(`#/projects/${proj(1).id}`);
    fireEvent.click(screen.getByRole('button', { name: 'Load more' }));
    await screen.findByRole('link', { name: 'Project 2' });
    expect(api.sent('GET', `/users/${u1.id}/projects`)[1].query.get('cursor')).toBe('p2');
    fireEvent.click(screen.getByRole('button', { name: 'Hide projects' }));
    await waitFor(() => expect(screen.queryByRole('list', { name: 'Projects user1 is assigned to' })).toBeNull());
  });
});

describe('<cp-customer> delete', () => {
  it('deletes for admins after confirmation and explains a 409', async () => {
    const api = fakeApi({
      'GET /api/v1/me': ADMIN,
      [`GET /api/v1/customers/${ids.customer}`]: customerDoc,
      [`GET /api/v1/customers/${ids.customer}/projects`]: { items: [] },
      [`DELETE /api/v1/customers/${ids.customer}`]: (_c, n) => (n === 1 ? problem(409, { title: 'Conflict', detail: 'customer still has projects; delete them first' }) : undefined),
    });
    const { screen, el } = await mount('cp-customer', { 'customer-id': ids.customer });
    const seen: string[] = [];
    el.addEventListener('cp-navigate', (e) => seen.push((e as CustomEvent).detail.path));
    fireEvent.click(await screen.findByRole('button', { name: 'Delete customer' }));
    fireEvent.click(screen.getByRole('button', { name: 'No' }));
    expect(api.sent('DELETE', `/customers/${ids.customer}`)).toHaveLength(0);
    fireEvent.click(screen.getByRole('button', { name: 'Delete customer' }));
    fireEvent.click(within(screen.getByRole('group', { name: 'Delete customer Acme? This cannot be undone.' })).getByRole('button', { name: 'Yes' }));
    await screen.findByText('This cannot be deleted: Customer still has projects; delete them first.');
    fireEvent.click(screen.getByRole('button', { name: 'Delete customer' }));
    fireEvent.click(screen.getByRole('button', { name: 'Yes' }));
    await screen.findByText('Customer deleted.');
    expect(api.sent('DELETE', `/customers/${ids.customer}`)).toHaveLength(2);
    expect(seen).toEqual(['#/customers']);
  });

  it('offers no delete to others', async () => {
    fakeApi({
      'GET /api/v1/me': SUPPORT,
      [`GET /api/v1/customers/${ids.customer}`]: customerDoc,
      [`GET /api/v1/customers/${ids.customer}/projects`]: { items: [] },
    });
    const { screen } = await mount('cp-customer', { 'customer-id': ids.customer });
    await screen.findByRole('heading', { name: 'Acme' });
    expect(screen.queryByRole('button', { name: 'Delete customer' })).toBeNull();
  });
});
