import { fireEvent, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ADMIN, CUSTOMER, fakeApi, ids, mount } from './harness';

// Regression: <cp-portal> once listened for its widgets' events on a div below the element they
// are dispatched from (the shell's .cp-widget div, which emit() uses), so in a browser navigation
// never arrived. Clicks on nav links hid it (the <a href> navigates by itself); these tests use
// the paths that have no link behind them.

const acme = {
  id: ids.customer,
  name: 'Acme',
  customerNumber: 'C-1',
  contactName: '',
  contactPhone: '',
  contactEmail: '',
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
};
const rollout = {
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

/** shellOf is the element a portal's widgets dispatch their events from (Shell's root, see emit). */
function shellOf(root: HTMLElement): HTMLElement {
  const shell = root.querySelector<HTMLElement>('.cp-widget');
  if (!shell) throw new Error('no widget shell');
  return shell;
}

describe('<cp-portal> hears its widgets', () => {
  it('shows the new project after a save in the customer view (navigate() without a link)', async () => {
    window.location.hash = `#/customers/${ids.customer}`;
    const api = fakeApi({
      'GET /api/v1/me': ADMIN,
      [`GET /api/v1/customers/${ids.customer}`]: acme,
      [`GET /api/v1/customers/${ids.customer}/projects`]: { items: [] },
      'POST /api/v1/projects': rollout,
      [`GET /api/v1/projects/${ids.project}`]: rollout,
      [`GET /api/v1/projects/${ids.project}/entitlement`]: { canOpenTickets: false, reasons: ['no_active_subscription'] },
    });
    const { screen } = await mount('cp-portal');
    await screen.findByRole('heading', { level: 2, name: 'Acme' });
    fireEvent.click(await screen.findByRole('button', { name: 'New project' }));
    const form = await screen.findByRole('form', { name: 'New project' });
    fireEvent.change(screen.getByLabelText(/^Name/), { target: { value: 'Rollout' } });
    fireEvent.submit(form);
    await waitFor(() => expect(api.sent('POST', '/projects')).toHaveLength(1));
    await waitFor(() => expect(window.location.hash).toBe(`#/projects/${ids.project}`));
    await screen.findByRole('heading', { level: 2, name: 'Rollout' });
  });

  it('answers cp-navigate and cp-ticket-created dispatched from the shell element, as widgets do', async () => {
    fakeApi({ 'GET /api/v1/me': CUSTOMER, 'GET /api/v1/tickets': { items: [] }, 'GET /api/v1/ticket-types': { items: [] }, 'GET /api/v1/customers': { items: [] } });
    const { root, screen } = await mount('cp-portal');
    await screen.findByRole('heading', { level: 2, name: 'Tickets' });
    const shell = shellOf(root);

    const nav = new CustomEvent('cp-navigate', { detail: { path: '#/customers' }, bubbles: true, composed: true, cancelable: true });
    shell.dispatchEvent(nav);
    await waitFor(() => expect(window.location.hash).toBe('#/customers'));
    expect(nav.defaultPrevented).toBe(true);
    await screen.findByRole('heading', { level: 2, name: 'Customers' });

    shell.dispatchEvent(new CustomEvent('cp-ticket-created', { detail: { key: 'CP-7', projectId: ids.project }, bubbles: true, composed: true }));
    await waitFor(() => expect(window.location.hash).toBe('#/tickets/CP-7'));
  });
});

describe('screens', () => {
  it('gives a ticket that is not there a heading and a way back to the list', async () => {
    window.location.hash = '#/tickets/CP-404';
    fakeApi({ 'GET /api/v1/me': CUSTOMER, 'GET /api/v1/tickets': { items: [] }, 'GET /api/v1/ticket-types': { items: [] } });
    const { screen } = await mount('cp-portal');
    await screen.findByRole('heading', { level: 2, name: 'Not found' });
    expect(screen.getByRole('alert').textContent).toBe('Not found, or not visible to you.');
    fireEvent.click(screen.getByRole('link', { name: 'All tickets' }));
    await waitFor(() => expect(window.location.hash).toBe('#/tickets'));
    await screen.findByRole('heading', { level: 2, name: 'Tickets' });
  });

  it('puts the Tickets heading first, then Open ticket', async () => {
    fakeApi({ 'GET /api/v1/me': CUSTOMER, 'GET /api/v1/tickets': { items: [] }, 'GET /api/v1/ticket-types': { items: [] } });
    const { screen } = await mount('cp-portal');
    const heading = await screen.findByRole('heading', { level: 2, name: 'Tickets' });
    const open = screen.getByRole('link', { name: 'Open ticket' });
    expect(heading.compareDocumentPosition(open) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
  });

  it('names the project a ticket belongs to in its link', async () => {
    fakeApi({
      'GET /api/v1/me': CUSTOMER,
      'GET /api/v1/tickets/CP-1': {
        key: 'CP-1',
        projectId: ids.project,
        customerId: ids.customer,
        typeId: ids.type,
        summary: 'Broken',
        priority: 'high',
        status: 'open',
        statusCategory: 'new',
        reporter: { id: CUSTOMER.id, username: 'cora' },
        participants: [],
        comments: [],
        createdAt: '2026-01-01T00:00:00Z',
        updatedAt: '2026-01-01T00:00:00Z',
        stale: false,
      },
      [`GET /api/v1/projects/${ids.project}`]: rollout,
    });
    const { screen } = await mount('cp-ticket', { 'ticket-id': 'CP-1' });
    const link = await screen.findByRole('link', { name: 'Rollout' });
    expect(link.getAttribute('href')).toBe(`#/projects/${ids.project}`);
    expect(screen.queryByRole('link', { name: 'Project' })).toBeNull();
  });

  it('names the customer in the project view and keeps action buttons inside their table cells', async () => {
    fakeApi({
      'GET /api/v1/me': ADMIN,
      [`GET /api/v1/projects/${ids.project}`]: rollout,
      [`GET /api/v1/projects/${ids.project}/entitlement`]: { canOpenTickets: false, reasons: [] },
      [`GET /api/v1/projects/${ids.project}/users`]: { items: [{ id: CUSTOMER.id, username: 'cora', email: 'c@x' }] },
      [`GET /api/v1/customers/${ids.customer}`]: acme,
    });
    const { screen } = await mount('cp-project', { 'project-id': ids.project });
    const link = await screen.findByRole('link', { name: 'Acme' });
    expect(link.getAttribute('href')).toBe(`#/customers/${ids.customer}`);
    const remove = await screen.findByRole('button', { name: 'Remove cora' });
    const cell = remove.closest('td, th');
    expect(cell?.tagName).toBe('TD');
    expect(cell?.classList.contains('cp-toolbar')).toBe(false);
    expect(remove.parentElement?.classList.contains('cp-toolbar')).toBe(true);
  });
});
