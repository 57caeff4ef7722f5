import { fireEvent, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ADMIN, CUSTOMER, SUPPORT, fakeApi, ids, mount, problem } from './harness';

const event = (n: number, extra: Record<string, unknown> = {}) => ({
  id: `00000000-0000-7000-8000-0000000e00${String(n).padStart(2, '0')}`,
  occurredAt: '2026-02-03T10:20:00Z',
  actorSubject: 'admin-sub',
  actorUsername: 'ada',
  action: 'customer.updated',
  resourceType: 'customer',
  resourceId: ids.customer,
  ...extra,
});

describe('<cp-audit>', () => {
  it('shows events with their changed fields before and after, and pages with nextCursor', async () => {
    const api = fakeApi({
      'GET /api/v1/me': SUPPORT,
      'GET /api/v1/audit-events': (c) =>
        c.query.get('cursor') === 'n2'
          ? { items: [event(2, { action: 'project.deleted', resourceType: 'project' })] }
          : { items: [event(1, { changes: { name: { before: 'Acme', after: 'Acme Corp' }, notes: { before: null, after: 'vip' } } })], nextCursor: 'n2' },
    });
    const { screen } = await mount('cp-audit');
    const table = await screen.findByRole('table', { name: 'Audit events' });
    expect(within(table).getByText('customer.updated')).toBeTruthy();
    expect(within(table).getByText('2026-02-03 10:20 UTC')).toBeTruthy();
    const changes = screen.getByRole('table', { name: 'Changes of customer.updated at 2026-02-03 10:20 UTC' });
    const row = within(changes).getByRole('rowheader', { name: 'name' }).closest('tr')!;
    expect([...row.querySelectorAll('td')].map((td) => td.textContent)).toEqual(['Acme', 'Acme Corp']);
    const notes = within(changes).getByRole('rowheader', { name: 'notes' }).closest('tr')!;
    expect([...notes.querySelectorAll('td')].map((td) => td.textContent)).toEqual(['(none)', 'vip']);
    fireEvent.click(screen.getByRole('button', { name: 'Load more' }));
    await screen.findByText('project.deleted');
    expect(api.sent('GET', '/audit-events')[1].query.get('cursor')).toBe('n2');
    expect(screen.getByText('No field changes recorded.')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
  });

  it('sends the resource, actor and time range filters, and shows a filter field error', async () => {
    const api = fakeApi({
      'GET /api/v1/me': ADMIN,
      'GET /api/v1/audit-events': (c) =>
        c.query.get('actor') === 'bad' ? problem(400, { title: 'Bad Request', errors: [{ field: 'actor', message: 'unknown actor' }] }) : { items: [] },
    });
    const { screen } = await mount('cp-audit');
    await screen.findByText('No audit events match.');
    expect([...api.sent('GET', '/audit-events')[0].query.keys()]).toEqual([]);
    fireEvent.change(screen.getByLabelText(/^Resource type/), { target: { value: 'project' } });
    fireEvent.change(screen.getByLabelText(/^Resource id/), { target: { value: ids.project } });
    fireEvent.change(screen.getByLabelText(/^Actor/), { target: { value: 'ada' } });
    fireEvent.change(screen.getByLabelText(/^From/), { target: { value: '2026-01-01T08:00' } });
    fireEvent.change(screen.getByLabelText(/^Until/), { target: { value: '2026-01-31T18:30' } });
    fireEvent.click(screen.getByRole('button', { name: 'Apply filters' }));
    await waitFor(() => expect(api.sent('GET', '/audit-events')).toHaveLength(2));
    const q = api.sent('GET', '/audit-events')[1].query;
    expect(Object.fromEntries(q)).toEqual({
      resourceType: 'project',
      resourceId: ids.project,
      actor: 'ada',
      since: new Date('2026-01-01T08:00').toISOString(),
      until: new Date('2026-01-31T18:30').toISOString(),
    });
    fireEvent.change(screen.getByLabelText(/^Actor/), { target: { value: 'bad' } });
    fireEvent.click(screen.getByRole('button', { name: 'Apply filters' }));
    await screen.findByText('unknown actor');
    expect(screen.getByLabelText(/^Actor/).getAttribute('aria-invalid')).toBe('true');
    fireEvent.click(screen.getByRole('button', { name: 'Clear filters' }));
    await waitFor(() => expect(api.sent('GET', '/audit-events')).toHaveLength(4));
    expect([...api.sent('GET', '/audit-events')[3].query.keys()]).toEqual([]);
  });

  it('presets the filters from its attributes', async () => {
    const api = fakeApi({ 'GET /api/v1/me': ADMIN, 'GET /api/v1/audit-events': { items: [] } });
    await mount('cp-audit', { 'resource-type': 'customer', 'resource-id': ids.customer });
    await waitFor(() => expect(api.sent('GET', '/audit-events')).toHaveLength(1));
    expect(Object.fromEntries(api.sent('GET', '/audit-events')[0].query)).toEqual({ resourceType: 'customer', resourceId: ids.customer });
  });

  it('is refused to customers without calling the API', async () => {
    const api = fakeApi({ 'GET /api/v1/me': CUSTOMER });
    const { screen } = await mount('cp-audit');
    await screen.findByText('You are not allowed to do this.');
    expect(api.sent('GET', '/audit-events')).toHaveLength(0);
  });
});
