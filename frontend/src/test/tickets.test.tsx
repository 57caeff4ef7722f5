import { fireEvent, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { ADMIN, CUSTOMER, SUPPORT, fakeApi, ids, json, mount, problem } from './harness';

const ticket = (key: string, extra: Record<string, unknown> = {}) => ({
  key,
  projectId: ids.project,
  customerId: ids.customer,
  typeId: ids.type,
  typeName: 'Incident',
  summary: `Summary ${key}`,
  description: 'It broke.',
  priority: 'high',
  status: 'open',
  statusCategory: 'new',
  reporter: { id: CUSTOMER.id, username: 'cora' },
  participants: [],
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-02T00:00:00Z',
  syncedAt: '2026-01-02T00:00:00Z',
  stale: false,
  ...extra,
});
const comment = (id: string, body: string, internal: boolean) => ({ id, author: { id: SUPPORT.id, username: 'sam' }, body, internal, createdAt: '2026-01-02T10:00:00Z' });
const types = { items: [{ id: ids.type, name: 'Incident', description: '', active: true, createdAt: '', updatedAt: '' }] };

describe('<cp-tickets>', () => {
  it('lists a project’s tickets, applies the spec’s filters and pages with Load more', async () => {
    const path = `/api/v1/projects/${ids.project}/tickets`;
    const api = fakeApi({
      'GET /api/v1/me': CUSTOMER,
      'GET /api/v1/ticket-types': types,
      [`GET ${path}`]: (c) => (c.query.get('cursor') === 'n2' ? { items: [ticket('CP-3')] } : { items: [ticket('CP-1'), ticket('CP-2')], nextCursor: 'n2' }),
    });
    const { screen } = await mount('cp-tickets', { 'project-id': ids.project });
    await screen.findByRole('table', { name: 'Tickets' });
    fireEvent.click(screen.getByRole('button', { name: 'Load more' }));
    await screen.findByText('CP-3');
    expect(screen.getAllByRole('row')).toHaveLength(4);

    await screen.findByRole('option', { name: 'Incident' });
    fireEvent.change(screen.getByLabelText('Status'), { target: { value: 'done' } });
    fireEvent.change(screen.getByLabelText('Priority'), { target: { value: 'high' } });
    fireEvent.change(screen.getByLabelText('Type'), { target: { value: ids.type } });
    fireEvent.change(screen.getByLabelText('Sort by'), { target: { value: 'updated' } });
    fireEvent.change(screen.getByLabelText('Search tickets'), { target: { value: 'printer' } });
    fireEvent.click(screen.getByLabelText('Only tickets I reported'));
    fireEvent.click(screen.getByRole('button', { name: 'Filter' }));
    await waitFor(() => expect(api.calls.filter((c) => c.path === path)).toHaveLength(3));
    const q = api.calls.filter((c) => c.path === path)[2].query;
    expect(Object.fromEntries(q)).toEqual({ statusCategory: 'done', priority: 'high', typeId: ids.type, sort: 'updated', q: 'printer', reporter: 'me' });
  });

  it('lists all visible tickets without a project and says when none match', async () => {
    const api = fakeApi({ 'GET /api/v1/me': SUPPORT, 'GET /api/v1/ticket-types': types, 'GET /api/v1/tickets': { items: [] } });
    const { screen } = await mount('cp-tickets');
    await screen.findByText('No tickets match.');
    expect(api.sent('GET', '/tickets')).toHaveLength(1);
  });
  it('exports what the list shows as the server’s CSV, and shows the server’s refusal', async () => {
    const saved: { name: string; href: string }[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      saved.push({ name: this.download, href: this.href });
    });
    vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: vi.fn(() => 'blob:csv'), revokeObjectURL: vi.fn() }));
    const api = fakeApi({
      'GET /api/v1/me': CUSTOMER,
      'GET /api/v1/ticket-types': types,
      [`GET /api/v1/projects/${ids.project}/tickets`]: { items: [ticket('CP-1')] },
      'GET /api/v1/tickets/export': (_c, n) =>
        n === 1
          ? new Response('key,summary\r\nCP-1,Summary CP-1\r\n', {
              headers: { 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': 'attachment; filename="tickets-20260102.csv"' },
            })
          : problem(422, { detail: 'more than 100000 tickets match: narrow the filters' }),
    });
    const { screen } = await mount('cp-tickets', { 'project-id': ids.project });
    await screen.findByText('CP-1');
    fireEvent.change(screen.getByLabelText('Priority'), { target: { value: 'high' } });
    fireEvent.click(screen.getByRole('button', { name: 'Filter' }));
    await waitFor(() => expect(api.sent('GET', `/projects/${ids.project}/tickets`)).toHaveLength(2));

    fireEvent.click(screen.getByRole('button', { name: 'Export CSV' }));
    await waitFor(() => expect(saved).toHaveLength(1));
    expect(saved[0]).toEqual({ name: 'tickets-20260102.csv', href: 'blob:csv' });
    const sent = api.sent('GET', '/tickets/export')[0];
    expect(Object.fromEntries(sent.query)).toEqual({ priority: 'high', sort: 'created', project: ids.project });
    expect(sent.headers.get('Authorization')).toMatch(/^Bearer /);

    fireEvent.click(screen.getByRole('button', { name: 'Export CSV' }));
    await screen.findByText(/narrow the filters/);
    expect(saved).toHaveLength(1);
    vi.restoreAllMocks();
  });
});

describe('<cp-ticket>', () => {
  it('hides internal comments and staff controls from customers, who may close', async () => {
    const api = fakeApi({
      'GET /api/v1/me': CUSTOMER,
      'GET /api/v1/tickets/CP-1': ticket('CP-1', { comments: [comment('c1', 'Public answer', false), comment('c2', 'Secret note', true)] }),
      'PUT /api/v1/tickets/CP-1/status': (c) => ticket('CP-1', { status: c.body.status }),
    });
    const { screen } = await mount('cp-ticket', { 'ticket-id': 'CP-1' });
    await screen.findByText('Public answer');
    expect(screen.queryByText('Secret note')).toBeNull();
    expect(screen.queryByLabelText(/Internal/)).toBeNull();
    expect(screen.queryByLabelText('New status')).toBeNull();
    expect(screen.queryByRole('button', { name: 'Reopen ticket' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Close ticket' }));
    await screen.findByText('Status changed to Closed.');
    expect(api.sent('PUT', '/tickets/CP-1/status')[0].body).toEqual({ status: 'closed' });
    expect(screen.getByRole('button', { name: 'Reopen ticket' })).toBeTruthy();
  });

  it('shows staff internal comments, any status and an internal flag on comments', async () => {
    const api = fakeApi({
      'GET /api/v1/me': SUPPORT,
      'GET /api/v1/tickets/CP-1': ticket('CP-1', { comments: [comment('c2', 'Secret note', true)] }),
      'POST /api/v1/tickets/CP-1/comments': (c) => json(201, comment('c3', c.body.body, c.body.internal)),
      'PUT /api/v1/tickets/CP-1/status': (c) => ticket('CP-1', { status: c.body.status }),
    });
    const { screen } = await mount('cp-ticket', { 'ticket-id': 'CP-1' });
    await screen.findByText('Secret note');
    fireEvent.change(screen.getByLabelText('New status'), { target: { value: 'waiting_for_customer' } });
    fireEvent.click(screen.getByRole('button', { name: 'Set status' }));
    await screen.findByText('Status changed to Waiting for customer.');
    fireEvent.change(screen.getByRole('textbox', { name: /^Comment/ }), { target: { value: 'Checked the logs' } });
    fireEvent.click(screen.getByLabelText('Internal (visible to staff only)'));
    fireEvent.click(screen.getByRole('button', { name: 'Add comment' }));
    await screen.findByText('Checked the logs');
    expect(api.sent('POST', '/tickets/CP-1/comments')[0].body).toEqual({ body: 'Checked the logs', internal: true });
    expect(api.sent('PUT', '/tickets/CP-1/status')[0].body).toEqual({ status: 'waiting_for_customer' });
  });

  it('customers add public comments and see the field error on the comment', async () => {
    const api = fakeApi({
      'GET /api/v1/me': CUSTOMER,
      'GET /api/v1/tickets/CP-1': ticket('CP-1', { comments: [] }),
      'POST /api/v1/tickets/CP-1/comments': problem(400, { title: 'Invalid request', errors: [{ field: 'body', message: 'too long' }] }),
    });
    const { screen } = await mount('cp-ticket', { 'ticket-id': 'CP-1' });
    await screen.findByText('No comments yet.');
    const box = screen.getByRole('textbox', { name: /^Comment/ });
    fireEvent.change(box, { target: { value: 'Thanks' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add comment' }));
    await waitFor(() => expect(box.getAttribute('aria-invalid')).toBe('true'));
    expect(screen.getByText('too long')).toBeTruthy();
    expect(api.sent('POST', '/tickets/CP-1/comments')[0].body).toEqual({ body: 'Thanks', internal: false });
  });

  it('pages older comments with the ticket’s commentsNextCursor', async () => {
    const api = fakeApi({
      'GET /api/v1/me': CUSTOMER,
      'GET /api/v1/tickets/CP-1': ticket('CP-1', { comments: [comment('c1', 'First', false)], commentsNextCursor: 'cc' }),
      'GET /api/v1/tickets/CP-1/comments': { items: [comment('c9', 'Later one', false)] },
    });
    const { screen } = await mount('cp-ticket', { 'ticket-id': 'CP-1' });
    fireEvent.click(await screen.findByRole('button', { name: 'Load more comments' }));
    await screen.findByText('Later one');
    expect(api.sent('GET', '/tickets/CP-1/comments')[0].query.get('cursor')).toBe('cc');
    expect(screen.queryByRole('button', { name: 'Load more comments' })).toBeNull();
  });
});

describe('<cp-open-ticket>', () => {
  const entitled = { projectId: ids.project, canOpenTickets: true, reasons: [] };

  it('sends one Idempotency-Key per form, so a double click makes one ticket', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const api = fakeApi({
      'GET /api/v1/me': CUSTOMER,
      'GET /api/v1/ticket-types': types,
      [`GET /api/v1/projects/${ids.project}/entitlement`]: entitled,
      [`POST /api/v1/projects/${ids.project}/tickets`]: async (c) => (await gate, json(201, ticket('CP-7', { summary: c.body.summary }))),
    });
    const { el, screen } = await mount('cp-open-ticket', { 'project-id': ids.project });
    const events: unknown[] = [];
    document.body.addEventListener('cp-ticket-created', (e) => events.push((e as CustomEvent).detail));
    fireEvent.change(await screen.findByLabelText(/^Type/), { target: { value: ids.type } });
    fireEvent.change(screen.getByLabelText(/^Summary/), { target: { value: 'Printer on fire' } });
    const submit = screen.getByRole('button', { name: 'Open ticket' });
    fireEvent.click(submit);
    fireEvent.click(submit);
    release();
    await screen.findByText(/Ticket CP-7 opened/);
    const posts = api.sent('POST', `/projects/${ids.project}/tickets`);
    expect(posts).toHaveLength(1);
    const key = posts[0].headers.get('Idempotency-Key');
    expect(key).toMatch(/^[A-Za-z0-9._:-]{8,128}$/);
    expect(posts[0].body).toEqual({ typeId: ids.type, summary: 'Printer on fire', priority: 'medium' });
    expect(posts[0].headers.get('Authorization')).toBe('Bearer tok-1');
    expect(events).toEqual([{ key: 'CP-7', projectId: ids.project }]);
    expect(el.isConnected).toBe(true);
  });

  it('retries with the same key after a failure, and a new key once the form changes', async () => {
    const api = fakeApi({
      'GET /api/v1/me': CUSTOMER,
      'GET /api/v1/ticket-types': types,
      [`GET /api/v1/projects/${ids.project}/entitlement`]: entitled,
      [`POST /api/v1/projects/${ids.project}/tickets`]: (_c, n) => (n < 3 ? problem(503, { detail: 'Jira is unavailable.' }) : json(201, ticket('CP-8'))),
    });
    const { screen } = await mount('cp-open-ticket', { 'project-id': ids.project });
    fireEvent.change(await screen.findByLabelText(/^Type/), { target: { value: ids.type } });
    fireEvent.change(screen.getByLabelText(/^Summary/), { target: { value: 'A' } });
    fireEvent.click(screen.getByRole('button', { name: 'Open ticket' }));
    await screen.findByText('Jira is unavailable.');
    fireEvent.click(screen.getByRole('button', { name: 'Open ticket' }));
    await waitFor(() => expect(api.sent('POST', `/projects/${ids.project}/tickets`)).toHaveLength(2));
    fireEvent.change(screen.getByLabelText(/^Summary/), { target: { value: 'AB' } });
    fireEvent.click(screen.getByRole('button', { name: 'Open ticket' }));
    await screen.findByText(/Ticket CP-8 opened/);
    const keys = api.sent('POST', `/projects/${ids.project}/tickets`).map((c) => c.headers.get('Idempotency-Key'));
    expect(keys[0]).toBe(keys[1]);
    expect(keys[2]).not.toBe(keys[1]);
  });

  it('without a project, offers the caller’s projects and says why one cannot open tickets', async () => {
    fakeApi({
      'GET /api/v1/me': CUSTOMER,
      'GET /api/v1/ticket-types': types,
      'GET /api/v1/projects': { items: [{ id: ids.project, name: 'Rollout', customerId: ids.customer }] },
      [`GET /api/v1/projects/${ids.project}/entitlement`]: { projectId: ids.project, canOpenTickets: false, reasons: ['subscription_expired'] },
    });
    const { screen } = await mount('cp-open-ticket');
    fireEvent.change(await screen.findByLabelText(/^Project/), { target: { value: ids.project } });
    await screen.findByText('The project’s subscription has expired.');
    expect((screen.getByRole('button', { name: 'Open ticket' }) as HTMLButtonElement).disabled).toBe(true);
  });
});

describe('admin-only ticket data', () => {
  it('admins get the same internal comments as support', async () => {
    fakeApi({ 'GET /api/v1/me': ADMIN, 'GET /api/v1/tickets/CP-1': ticket('CP-1', { comments: [comment('c2', 'Secret note', true)] }) });
    const { screen } = await mount('cp-ticket', { 'ticket-id': 'CP-1' });
    await screen.findByText('Secret note');
    expect(screen.getByText('Internal')).toBeTruthy();
  });
});
