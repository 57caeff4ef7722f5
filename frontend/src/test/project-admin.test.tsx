import { fireEvent, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ADMIN, CUSTOMER, SUPPORT, fakeApi, ids, json, mount, problem } from './harness';

const base = `/api/v1/projects/${ids.project}`;
const project = {
  id: ids.project,
  customerId: ids.customer,
  name: 'Rollout',
  description: '',
  ticketVisibility: 'project',
  contactName: '',
  contactPhone: '',
  contactEmail: '',
  createdAt: '',
  updatedAt: '',
};
const customer = { id: ids.customer, name: 'Acme', customerNumber: 'C-1', contactName: '', contactPhone: '', contactEmail: '', createdAt: '', updatedAt: '' };
const gold = { id: '00000000-0000-7000-8000-00000000e001', name: 'GOLD', description: '', rank: 20, slaTargets: [], createdAt: '', updatedAt: '' };
const silver = { id: '00000000-0000-7000-8000-00000000e002', name: 'SILVER', description: '', rank: 10, slaTargets: [], createdAt: '', updatedAt: '' };
const v7 = { id: '00000000-0000-7000-8000-00000000f001', name: '7.0', active: true, startDate: '2026-01-01', createdAt: '', updatedAt: '' };
const v8 = { id: '00000000-0000-7000-8000-00000000f002', name: '8.0', active: true, startDate: '2026-06-01', createdAt: '', updatedAt: '' };
const sub = (n: number, status: string, extra: Record<string, unknown> = {}) => ({
  id: `00000000-0000-7000-8000-00000000d00${n}`,
  projectId: ids.project,
  customerId: ids.customer,
  levelId: gold.id,
  productVersionId: v7.id,
  startDate: `202${n}-01-01`,
  lengthMonths: 12,
  endDate: `202${n + 1}-01-01`,
  status,
  current: status === 'ACTIVE',
  createdAt: '',
  updatedAt: '',
  ...extra,
});

function routes(me: object, subs: object[], extra: Record<string, unknown> = {}) {
  return {
    'GET /api/v1/me': me,
    [`GET ${base}`]: json(200, project, { ETag: '"p1"' }),
    [`GET /api/v1/customers/${ids.customer}`]: customer,
    [`GET ${base}/entitlement`]: { projectId: ids.project, canOpenTickets: true, reasons: [], subscription: sub(6, 'ACTIVE'), level: gold },
    [`GET ${base}/subscriptions`]: { items: subs },
    [`GET ${base}/users`]: { items: [] },
    [`GET ${base}/partners`]: { items: [] },
    [`GET ${base}/tickets`]: { items: [] },
    'GET /api/v1/subscription-levels': { items: [gold, silver] },
    'GET /api/v1/product-versions': { items: [v7, v8] },
    'GET /api/v1/ticket-types': { items: [] },
    'GET /api/v1/partners': { items: [] },
    ...extra,
  } as Record<string, any>;
}

const actions = (screen: Awaited<ReturnType<typeof mount>>['screen'], start: string) => within(screen.getByRole('group', { name: `GOLD from ${start}` }));

describe('<cp-project> subscriptions for admins', () => {
  it('shows the customer by name, linked, and the current entitlement in words', async () => {
    fakeApi(routes(CUSTOMER, []));
    const { screen } = await mount('cp-project', { 'project-id': ids.project });
    const link = await screen.findByRole('link', { name: 'Acme' });
    expect(link.getAttribute('href')).toBe(`#/customers/${ids.customer}`);
    await screen.findByText('This project may open tickets.');
    await screen.findByText('GOLD, product version 7.0, from 2026-01-01 until 2027-01-01 (exclusive)');
  });

  it('rejects a request with the reason the API requires', async () => {
    const r = sub(6, 'REQUESTED');
    const api = fakeApi(
      routes(ADMIN, [r], {
        [`POST /api/v1/subscriptions/${r.id}/reject`]: (c: any) =>
          c.body.reason === 'x' ? problem(400, { title: 'Bad Request', errors: [{ field: 'reason', message: 'too vague' }] }) : sub(6, 'REJECTED', { rejectionReason: c.body.reason }),
      }),
    );
    const { screen } = await mount('cp-project', { 'project-id': ids.project });
    await screen.findByRole('group', { name: 'GOLD from 2026-01-01' });
    fireEvent.click(actions(screen, '2026-01-01').getByRole('button', { name: 'Reject' }));
    const form = screen.getByRole('form', { name: 'Reject the request' });
    const reason = within(form).getByLabelText(/^Reason for rejection/);
    expect((within(form).getByRole('button', { name: 'Reject' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(reason, { target: { value: 'x' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Reject' }));
    await waitFor(() => expect(reason.getAttribute('aria-invalid')).toBe('true'));
    expect(within(form).getByText('too vague')).toBeTruthy();
    fireEvent.change(reason, { target: { value: ' No budget approval ' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Reject' }));
    await screen.findByText('Subscription rejected.');
    expect(api.sent('POST', `/subscriptions/${r.id}/reject`)[1].body).toEqual({ reason: 'No budget approval' });
    expect(screen.getByText('(No budget approval)')).toBeTruthy();
    // A rejected subscription can only be deleted.
    expect(actions(screen, '2026-01-01').queryByRole('button', { name: 'Approve' })).toBeNull();
    expect(actions(screen, '2026-01-01').queryByRole('button', { name: 'Edit dates' })).toBeNull();
    expect(actions(screen, '2026-01-01').getByRole('button', { name: 'Delete subscription' })).toBeTruthy();
  });

  it('approves and shows a 409 overlap readably', async () => {
    const r = sub(6, 'REQUESTED');
    const api = fakeApi(
      routes(ADMIN, [r], {
        [`POST /api/v1/subscriptions/${r.id}/approve`]: problem(409, { title: 'Conflict', detail: 'it would overlap another active subscription' }),
      }),
    );
    const { screen } = await mount('cp-project', { 'project-id': ids.project });
    await screen.findByRole('group', { name: 'GOLD from 2026-01-01' });
    fireEvent.click(actions(screen, '2026-01-01').getByRole('button', { name: 'Approve' }));
    await screen.findByText('it would overlap another active subscription');
    expect(api.sent('POST', `/subscriptions/${r.id}/approve`)).toHaveLength(1);
    expect(api.sent('POST', `/subscriptions/${r.id}/approve`)[0].body).toBeUndefined();
  });

  it('renews an active subscription sending only the changed terms', async () => {
    const a = sub(6, 'ACTIVE');
    const api = fakeApi(
      routes(ADMIN, [a], {
        [`POST /api/v1/subscriptions/${a.id}/renew`]: (c: any) => json(201, sub(7, 'ACTIVE', { renewalOf: a.id, ...c.body })),
      }),
    );
    const { screen } = await mount('cp-project', { 'project-id': ids.project });
    await screen.findByRole('group', { name: 'GOLD from 2026-01-01' });
    expect(actions(screen, '2026-01-01').queryByRole('button', { name: 'Approve' })).toBeNull();
    fireEvent.click(actions(screen, '2026-01-01').getByRole('button', { name: 'Renew' }));
    const form = screen.getByRole('form', { name: 'Renew subscription' });
    fireEvent.change(within(form).getByLabelText(/^Product version/), { target: { value: v8.id } });
    fireEvent.change(within(form).getByLabelText(/^Length in months/), { target: { value: '24' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Renew' }));
    await screen.findByText('The subscription was renewed.');
    expect(api.sent('POST', `/subscriptions/${a.id}/renew`)[0].body).toEqual({ productVersionId: v8.id, lengthMonths: 24 });
    expect(api.sent('GET', `/projects/${ids.project}/subscriptions`)).toHaveLength(2);
  });

  it('edits the dates with If-Match from a fresh read, and deletes after confirmation', async () => {
    const a = sub(6, 'ACTIVE');
    const api = fakeApi(
      routes(ADMIN, [a], {
        [`GET /api/v1/subscriptions/${a.id}`]: json(200, a, { ETag: '"s3"' }),
        [`PUT /api/v1/subscriptions/${a.id}`]: (c: any) => sub(6, 'ACTIVE', { ...c.body, endDate: '2026-09-01' }),
        [`DELETE /api/v1/subscriptions/${a.id}`]: () => undefined,
      }),
    );
    const { screen } = await mount('cp-project', { 'project-id': ids.project });
    await screen.findByRole('group', { name: 'GOLD from 2026-01-01' });
    fireEvent.click(actions(screen, '2026-01-01').getByRole('button', { name: 'Edit dates' }));
    const form = await screen.findByRole('form', { name: 'Edit subscription' });
    const start = await within(form).findByLabelText(/^Start/);
    expect((start as HTMLInputElement).value).toBe('2026-01-01');
    fireEvent.change(start, { target: { value: '2026-03-01' } });
    fireEvent.change(within(form).getByLabelText(/^Length in months/), { target: { value: '6' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Save' }));
    await screen.findByText('Saved.');
    const put = api.sent('PUT', `/subscriptions/${a.id}`)[0];
    expect(put.headers.get('If-Match')).toBe('"s3"');
    expect(put.body).toEqual({ levelId: gold.id, productVersionId: v7.id, startDate: '2026-03-01', lengthMonths: 6 });
    expect(screen.getByText('2026-09-01')).toBeTruthy();

    fireEvent.click(actions(screen, '2026-03-01').getByRole('button', { name: 'Delete subscription' }));
    expect(api.sent('DELETE', `/subscriptions/${a.id}`)).toHaveLength(0);
    fireEvent.click(within(screen.getByRole('group', { name: 'Delete this subscription? This cannot be undone.' })).getByRole('button', { name: 'Yes' }));
    await screen.findByText('Subscription deleted.');
    expect(api.sent('DELETE', `/subscriptions/${a.id}`)).toHaveLength(1);
    expect(screen.getByText('No subscriptions yet.')).toBeTruthy();
  });

  it('lets customers request a renewal but nothing else; support sees no actions', async () => {
    const a = sub(6, 'EXPIRED');
    const api = fakeApi(routes(CUSTOMER, [a], { [`POST /api/v1/subscriptions/${a.id}/renew`]: json(201, sub(7, 'REQUESTED')) }));
    const { screen } = await mount('cp-project', { 'project-id': ids.project });
    await screen.findByRole('group', { name: 'GOLD from 2026-01-01' });
    const g = actions(screen, '2026-01-01');
    expect(g.queryByRole('button', { name: 'Edit dates' })).toBeNull();
    expect(g.queryByRole('button', { name: 'Delete subscription' })).toBeNull();
    fireEvent.click(g.getByRole('button', { name: 'Request renewal' }));
    fireEvent.click(within(screen.getByRole('form', { name: 'Renew subscription' })).getByRole('button', { name: 'Renew' }));
    await screen.findByText('Your renewal request was sent. An administrator will review it.');
    expect(api.sent('POST', `/subscriptions/${a.id}/renew`)[0].body).toEqual({});
    document.body.innerHTML = '';

    fakeApi(routes(SUPPORT, [sub(6, 'REQUESTED')]));
    const s2 = (await mount('cp-project', { 'project-id': ids.project })).screen;
    await s2.findByRole('table', { name: 'Subscriptions of this project' });
    expect(s2.queryByRole('columnheader', { name: 'Actions' })).toBeNull();
    expect(s2.queryByRole('button', { name: 'Approve' })).toBeNull();
    expect(s2.queryByRole('button', { name: 'Delete project' })).toBeNull();
  });
});

describe('<cp-project> delete and partner links', () => {
  it('deletes the project after confirmation and shows a 409 refusal readably', async () => {
    const api = fakeApi(
      routes(ADMIN, [], {
        [`DELETE ${base}`]: (_c: unknown, n: number) =>
          n === 1 ? problem(409, { title: 'Conflict', detail: "the project still has tickets or subscriptions; they are kept as the customer's history" }) : undefined,
      }),
    );
    const { screen, el } = await mount('cp-project', { 'project-id': ids.project });
    const seen: string[] = [];
    el.addEventListener('cp-navigate', (e) => seen.push((e as CustomEvent).detail.path));
    fireEvent.click(await screen.findByRole('button', { name: 'Delete project' }));
    expect(api.sent('DELETE', `/projects/${ids.project}`)).toHaveLength(0);
    fireEvent.click(within(screen.getByRole('group', { name: /^Delete project Rollout/ })).getByRole('button', { name: 'Yes' }));
    await screen.findByText("This cannot be deleted: The project still has tickets or subscriptions; they are kept as the customer's history.");
    fireEvent.click(screen.getByRole('button', { name: 'Delete project' }));
    fireEvent.click(within(screen.getByRole('group', { name: /^Delete project Rollout/ })).getByRole('button', { name: 'Yes' }));
    await screen.findByText('Project Rollout deleted.');
    expect(api.sent('DELETE', `/projects/${ids.project}`)).toHaveLength(2);
    expect(seen).toEqual([`#/customers/${ids.customer}`]);
  });

  it('unlinks a partner after confirmation and links partners to their page', async () => {
    const partner = { id: '00000000-0000-7000-8000-00000000c0f1', name: 'Integrators Ltd', partnerNumber: 'P-1', createdAt: '', updatedAt: '' };
    const api = fakeApi(
      routes(ADMIN, [], {
        [`GET ${base}/partners`]: { items: [partner] },
        [`DELETE ${base}/partners/${partner.id}`]: () => undefined,
      }),
    );
    const { screen } = await mount('cp-project', { 'project-id': ids.project });
    const link = await screen.findByRole('link', { name: 'Integrators Ltd' });
    expect(link.getAttribute('href')).toBe(`#/partners/${partner.id}`);
    fireEvent.click(screen.getByRole('button', { name: 'Unlink Integrators Ltd' }));
    fireEvent.click(screen.getByRole('button', { name: 'Yes' }));
    await waitFor(() => expect(api.sent('DELETE', `/projects/${ids.project}/partners/${partner.id}`)).toHaveLength(1));
    await screen.findByText('No partners are linked.');
  });
});
