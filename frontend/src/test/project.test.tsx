import { fireEvent, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ADMIN, CUSTOMER, fakeApi, ids, json, mount } from './harness';

const project = {
  id: ids.project,
  customerId: ids.customer,
  name: 'Rollout',
  description: 'Big one',
  ticketVisibility: 'project',
  contactName: '',
  contactPhone: '',
  contactEmail: '',
  notes: 'internal detail',
  jsmOrganizationId: '42',
  createdAt: '',
  updatedAt: '',
};
const level = { id: '00000000-0000-7000-8000-00000000e001', name: 'GOLD', description: '', rank: 20, slaTargets: [], createdAt: '', updatedAt: '' };
const version = { id: '00000000-0000-7000-8000-00000000f001', name: '7.0', active: true, startDate: '2026-01-01', createdAt: '', updatedAt: '' };
const sub = (status: string) => ({
  id: '00000000-0000-7000-8000-00000000d001',
  projectId: ids.project,
  customerId: ids.customer,
  levelId: level.id,
  productVersionId: version.id,
  startDate: '2026-01-01',
  lengthMonths: 12,
  endDate: '2027-01-01',
  status,
  current: status === 'ACTIVE',
  createdAt: '',
  updatedAt: '',
});
const partner = { id: '00000000-0000-7000-8000-00000000c0f1', name: 'Integrators Ltd', partnerNumber: 'P-1', createdAt: '', updatedAt: '' };

function routes(me: object, extra: Record<string, unknown> = {}) {
  const base = `/api/v1/projects/${ids.project}`;
  return {
    'GET /api/v1/me': me,
    [`GET ${base}`]: json(200, project, { ETag: '"p1"' }),
    [`GET ${base}/entitlement`]: { projectId: ids.project, canOpenTickets: false, reasons: ['subscription_requested_pending'] },
    [`GET ${base}/subscriptions`]: { items: [sub('REQUESTED')] },
    [`GET ${base}/users`]: { items: [{ id: CUSTOMER.id, username: 'cora', email: 'cora@acme.com' }] },
    [`GET ${base}/partners`]: { items: [] },
    [`GET ${base}/tickets`]: { items: [] },
    'GET /api/v1/subscription-levels': { items: [level] },
    'GET /api/v1/product-versions': { items: [version] },
    'GET /api/v1/ticket-types': { items: [] },
    'GET /api/v1/partners': { items: [partner] },
    ...extra,
  } as Record<string, any>;
}

describe('<cp-project>', () => {
  it('shows customers the project without notes or admin actions, and why tickets cannot be opened', async () => {
    const api = fakeApi(routes(CUSTOMER));
    const { screen } = await mount('cp-project', { 'project-id': ids.project });
    await screen.findByRole('heading', { name: 'Rollout' });
    await screen.findByText('A subscription request is waiting for approval.');
    await screen.findByText('cora');
    expect(screen.queryByText('internal detail')).toBeNull();
    expect(screen.queryByText('42')).toBeNull();
    expect(screen.queryByRole('button', { name: 'Approve' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Remove cora' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Assign user' })).toBeNull();
    expect(screen.queryByRole('link', { name: 'Open ticket' })).toBeNull();
    expect(screen.getByRole('button', { name: 'Request subscription' })).toBeTruthy();
    expect(api.sent('GET', '/partners')).toHaveLength(0);
  });

  it('lets admins approve requests, assign and unassign users and link partners', async () => {
    const base = `/projects/${ids.project}`;
    const api = fakeApi(
      routes(ADMIN, {
        [`POST /api/v1/subscriptions/${sub('x').id}/approve`]: sub('ACTIVE'),
        [`POST /api/v1${base}/users`]: json(201, { id: 'u2', username: 'bob' }),
        [`DELETE /api/v1${base}/users/${CUSTOMER.id}`]: () => undefined,
        [`POST /api/v1${base}/partners`]: json(201, partner),
      }),
    );
    const { screen } = await mount('cp-project', { 'project-id': ids.project });
    await screen.findByText('internal detail');
    fireEvent.click(await screen.findByRole('button', { name: 'Approve' }));
    await screen.findByText('Active');
    fireEvent.change(screen.getByLabelText(/^Username to assign/), { target: { value: 'bob' } });
    fireEvent.click(screen.getByRole('button', { name: 'Assign user' }));
    await waitFor(() => expect(api.sent('POST', `${base}/users`)).toHaveLength(1));
    expect(api.sent('POST', `${base}/users`)[0].body).toEqual({ username: 'bob' });
    fireEvent.click(screen.getByRole('button', { name: 'Remove cora' }));
    await waitFor(() => expect(api.sent('DELETE', `${base}/users/${CUSTOMER.id}`)).toHaveLength(1));
    fireEvent.change(await screen.findByLabelText(/^Partner to link/), { target: { value: partner.id } });
    fireEvent.click(screen.getByRole('button', { name: 'Link partner' }));
    await waitFor(() => expect(api.sent('POST', `${base}/partners`)).toHaveLength(1));
    expect(api.sent('POST', `${base}/partners`)[0].body).toEqual({ partnerId: partner.id });
  });
});

describe('<cp-subscription-request>', () => {
  it('requests a subscription for a customer and words the answer as a request', async () => {
    const path = `/projects/${ids.project}/subscriptions`;
    const api = fakeApi(routes(CUSTOMER, { [`POST /api/v1${path}`]: (c: { body: object }) => json(201, { ...sub('REQUESTED'), ...c.body }) }));
    const { screen } = await mount('cp-subscription-request', { 'project-id': ids.project });
    fireEvent.change(await screen.findByLabelText(/^Subscription level/), { target: { value: level.id } });
    fireEvent.change(screen.getByLabelText(/^Product version/), { target: { value: version.id } });
    fireEvent.change(screen.getByLabelText(/^Start date/), { target: { value: '2026-03-01' } });
    fireEvent.change(screen.getByLabelText(/^Length in months/), { target: { value: '24' } });
    fireEvent.click(screen.getByRole('button', { name: 'Request subscription' }));
    await screen.findByText('Your request was sent. An administrator will review it.');
    expect(api.sent('POST', path)[0].body).toEqual({ levelId: level.id, productVersionId: version.id, startDate: '2026-03-01', lengthMonths: 24 });
  });
});
