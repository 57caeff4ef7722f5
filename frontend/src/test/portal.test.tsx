import { fireEvent, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { parseRoute } from '../widgets/Portal';
import { kc } from './fakeKeycloak';
import { ADMIN, CUSTOMER, SUPPORT, fakeApi, ids, mount } from './harness';

const emptyLists = {
  'GET /api/v1/customers': { items: [] },
  'GET /api/v1/tickets': { items: [] },
  'GET /api/v1/ticket-types': { items: [] },
  'GET /api/v1/users': { items: [] },
};

describe('routes', () => {
  it.each([
    ['', { name: 'tickets' }],
    ['#/customers', { name: 'customers' }],
    [`#/customers/${ids.customer}`, { name: 'customer', id: ids.customer }],
    [`#/projects/${ids.project}`, { name: 'project', id: ids.project }],
    [`#/projects/${ids.project}/tickets/new`, { name: 'openTicket', id: ids.project }],
    ['#/tickets', { name: 'tickets' }],
    ['#/tickets/CP-1', { name: 'ticket', id: 'CP-1' }],
    ['#/admin/users', { name: 'users' }],
    ['#/admin/catalogue', { name: 'catalogue' }],
    ['#/admin/ticketing', { name: 'ticketing' }],
    ['#/admin/audit', { name: 'audit' }],
    ['#/partners', { name: 'partners' }],
    ['#/partners/00000000-0000-7000-8000-00000000c0f1', { name: 'partner', id: '00000000-0000-7000-8000-00000000c0f1' }],
    ['#/nope/x/y', { name: 'notFound' }],
    ['#/tickets/100%', { name: 'notFound' }],
    ['#/customers/%E0%A4%A', { name: 'notFound' }],
  ])('%s', (hash, want) => {
    expect(parseRoute(hash)).toEqual(want);
  });
});

describe('<cp-portal>', () => {
  it('shows the signed-in user, their role, Sign out and the admin navigation', async () => {
    fakeApi({ 'GET /api/v1/me': ADMIN, ...emptyLists });
    const { screen } = await mount('cp-portal');
    await screen.findByText('Signed in as Ada Admin (Administrator)');
    const nav = screen.getByRole('navigation', { name: 'Main' });
    expect([...nav.querySelectorAll('a')].map((a) => a.textContent)).toEqual(['Customers', 'Partners', 'Tickets', 'Users', 'Catalogue', 'Ticketing', 'Audit log']);
    fireEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    await waitFor(() => expect(kc.logoutCalls).toHaveLength(1));
  });

  it('gives customers no admin navigation and refuses admin routes', async () => {
    window.location.hash = '#/admin/users';
    const api = fakeApi({ 'GET /api/v1/me': CUSTOMER, ...emptyLists });
    const { screen } = await mount('cp-portal');
    await screen.findByRole('heading', { name: 'Page not found' });
    const nav = screen.getByRole('navigation', { name: 'Main' });
    expect([...nav.querySelectorAll('a')].map((a) => a.textContent)).toEqual(['Customers', 'Tickets']);
    expect(api.sent('GET', '/users')).toHaveLength(0);
  });

  it('gives customers no audit log and support the read-only staff navigation', async () => {
    window.location.hash = '#/admin/audit';
    const api = fakeApi({ 'GET /api/v1/me': CUSTOMER, ...emptyLists });
    const { screen } = await mount('cp-portal');
    await screen.findByRole('heading', { name: 'Page not found' });
    expect(api.sent('GET', '/audit-events')).toHaveLength(0);
    document.body.innerHTML = '';

    fakeApi({ 'GET /api/v1/me': SUPPORT, ...emptyLists, 'GET /api/v1/audit-events': { items: [] }, 'GET /api/v1/partners': { items: [] } });
    const s2 = (await mount('cp-portal')).screen;
    await s2.findByRole('heading', { name: 'Audit log' });
    const nav = s2.getByRole('navigation', { name: 'Main' });
    expect([...nav.querySelectorAll('a')].map((a) => a.textContent)).toEqual(['Customers', 'Partners', 'Tickets', 'Audit log']);
    fireEvent.click(s2.getByRole('link', { name: 'Partners' }));
    await s2.findByRole('heading', { name: 'Partners' });
    await s2.findByText('No partners found.');
    expect(s2.queryByRole('button', { name: 'New partner' })).toBeNull();
  });

  it('routes by the hash and answers cp-navigate from its widgets', async () => {
    fakeApi({ 'GET /api/v1/me': ADMIN, ...emptyLists });
    const { screen } = await mount('cp-portal');
    await screen.findByRole('heading', { name: 'Tickets' });
    window.location.hash = '#/customers';
    await screen.findByRole('heading', { name: 'Customers' });
    fireEvent.click(screen.getByRole('link', { name: 'Users' }));
    await waitFor(() => expect(window.location.hash).toBe('#/admin/users'));
    await screen.findByRole('heading', { name: 'Users' });
    expect(screen.getByRole('link', { name: 'Users' }).getAttribute('aria-current')).toBe('page');
    expect(screen.getByRole('link', { name: 'Customers' }).getAttribute('aria-current')).toBeNull();
    expect(screen.getByRole('button', { name: 'Invite user' })).toBeTruthy();
  });

  it('offers Sign in when nobody is signed in', async () => {
    kc.authenticated = false;
    const api = fakeApi({});
    const { screen } = await mount('cp-portal');
    fireEvent.click(await screen.findByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(kc.loginCalls).toHaveLength(1));
    expect(screen.queryByRole('navigation')).toBeNull();
    expect(api.calls).toHaveLength(0);
  });

  it('lets the embedding page intercept navigation from a standalone widget', async () => {
    fakeApi({ 'GET /api/v1/me': CUSTOMER, 'GET /api/v1/customers': { items: [{ id: ids.customer, name: 'Acme', customerNumber: 'C', contactName: '', contactPhone: '', contactEmail: '', createdAt: '', updatedAt: '' }] } });
    const { screen } = await mount('cp-customers');
    const seen: string[] = [];
    document.addEventListener('cp-navigate', (e) => {
      seen.push((e as CustomEvent).detail.path);
      e.preventDefault();
    });
    fireEvent.click(await screen.findByRole('link', { name: 'Acme' }));
    expect(seen).toEqual([`#/customers/${ids.customer}`]);
    expect(window.location.hash).toBe('');
  });
});
