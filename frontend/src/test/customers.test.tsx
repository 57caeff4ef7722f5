import { fireEvent, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { kc } from './fakeKeycloak';
import { ADMIN, CUSTOMER, fakeApi, ids, json, mount, problem } from './harness';

const acme = {
  id: ids.customer,
  name: 'Acme',
  customerNumber: 'C-1',
  contactName: 'Wile',
  contactPhone: '',
  contactEmail: '',
  notes: 'pays late',
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
};
const cust = (n: number) => ({ ...acme, id: `00000000-0000-7000-8000-0000000001${String(n).padStart(2, '0')}`, name: `Customer ${n}`, customerNumber: `C-${n}` });

describe('<cp-customers>', () => {
  it('shows a loading state, then the list with an accessible name', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    fakeApi({ 'GET /api/v1/me': ADMIN, 'GET /api/v1/customers': async () => (await gate, { items: [acme] }) });
    const { screen } = await mount('cp-customers');
    await screen.findByText('Loading…');
    release();
    const table = await screen.findByRole('table', { name: 'Customers' });
    expect(table.textContent).toContain('Acme');
    expect(screen.getByRole('link', { name: 'Acme' }).getAttribute('href')).toBe(`#/customers/${ids.customer}`);
  });

  it('says so when there are no customers', async () => {
    fakeApi({ 'GET /api/v1/me': CUSTOMER, 'GET /api/v1/customers': { items: [] } });
    const { screen } = await mount('cp-customers');
    await screen.findByText('No customers found.');
  });

  it('hides admin actions from customers', async () => {
    fakeApi({ 'GET /api/v1/me': CUSTOMER, 'GET /api/v1/customers': { items: [acme] } });
    const { screen } = await mount('cp-customers');
    await screen.findByRole('table', { name: 'Customers' });
    expect(screen.queryByRole('button', { name: 'New customer' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Edit Acme' })).toBeNull();
  });

  it('searches with q and pages on with nextCursor', async () => {
    const api = fakeApi({
      'GET /api/v1/me': ADMIN,
      'GET /api/v1/customers': (c) =>
        c.query.get('cursor') === 'page2' ? { items: [cust(3)] } : c.query.get('q') === 'cus' ? { items: [cust(1), cust(2)], nextCursor: 'page2' } : { items: [acme] },
    });
    const { screen } = await mount('cp-customers');
    await screen.findByText('Acme');
    fireEvent.change(screen.getByLabelText('Search customers'), { target: { value: ' cus ' } });
    fireEvent.click(screen.getByRole('button', { name: 'Search' }));
    await screen.findByText('Customer 2');
    fireEvent.click(screen.getByRole('button', { name: 'Load more' }));
    await screen.findByText('Customer 3');
    expect(screen.getByText('Customer 1')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
    const gets = api.sent('GET', '/customers');
    expect(gets[1].query.get('q')).toBe('cus');
    expect(gets[2].query.get('cursor')).toBe('page2');
    expect(gets[2].query.get('q')).toBe('cus');
  });

  it('creates a customer as admin and shows field errors next to their fields', async () => {
    const api = fakeApi({
      'GET /api/v1/me': ADMIN,
      'GET /api/v1/customers': { items: [] },
      'POST /api/v1/customers': (c, n) =>
        n === 1
          ? problem(400, { title: 'Invalid request', detail: 'customerNumber is required', errors: [{ field: 'customerNumber', message: 'must not be empty' }] })
          : json(201, { ...acme, name: c.body.name, customerNumber: c.body.customerNumber }),
    });
    const { screen } = await mount('cp-customers');
    fireEvent.click(await screen.findByRole('button', { name: 'New customer' }));
    fireEvent.change(screen.getByLabelText(/^Name/), { target: { value: 'Acme' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    const number = (await screen.findByLabelText(/^Customer number/)) as HTMLInputElement;
    await waitFor(() => expect(number.getAttribute('aria-invalid')).toBe('true'));
    const describedBy = number.getAttribute('aria-describedby')!;
    const root = number.getRootNode() as ShadowRoot;
    expect(root.getElementById(describedBy)?.textContent).toBe('must not be empty');
    expect(root.activeElement).toBe(number);
    expect(screen.getByLabelText(/^Name/).getAttribute('aria-invalid')).toBeNull();

    fireEvent.change(number, { target: { value: 'C-9' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await screen.findByText('Customer Acme created.');
    const posts = api.sent('POST', '/customers');
    expect(posts).toHaveLength(2);
    expect(posts[1].body).toEqual({ name: 'Acme', customerNumber: 'C-9' });
    expect(posts[1].headers.get('Authorization')).toBe('Bearer tok-1');
    expect(posts[1].headers.get('Content-Type')).toBe('application/json');
  });

  it('edits with If-Match carrying the ETag it read', async () => {
    const api = fakeApi({
      'GET /api/v1/me': ADMIN,
      'GET /api/v1/customers': { items: [acme] },
      [`GET /api/v1/customers/${ids.customer}`]: json(200, acme, { ETag: '"v7"' }),
      [`PUT /api/v1/customers/${ids.customer}`]: (c) => ({ ...acme, ...c.body }),
    });
    const { screen } = await mount('cp-customers');
    fireEvent.click(await screen.findByRole('button', { name: 'Edit Acme' }));
    const name = await screen.findByDisplayValue('Acme');
    fireEvent.change(name, { target: { value: 'Acme Corp' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await screen.findByText('Saved.');
    const put = api.sent('PUT', `/customers/${ids.customer}`)[0];
    expect(put.headers.get('If-Match')).toBe('"v7"');
    expect(put.body).toEqual({ name: 'Acme Corp', customerNumber: 'C-1', contactName: 'Wile', notes: 'pays late' });
  });

  it('offers Retry with the detail on 503', async () => {
    fakeApi({
      'GET /api/v1/me': ADMIN,
      'GET /api/v1/customers': (_c, n) => (n === 1 ? problem(503, { title: 'Unavailable', detail: 'The directory is down.' }) : { items: [acme] }),
    });
    const { screen } = await mount('cp-customers');
    expect((await screen.findByRole('alert')).textContent).toContain('The directory is down.');
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    await screen.findByText('Acme');
  });
});

describe('<cp-customer>', () => {
  it('shows notes to staff only', async () => {
    fakeApi({ 'GET /api/v1/me': ADMIN, [`GET /api/v1/customers/${ids.customer}`]: acme, [`GET /api/v1/customers/${ids.customer}/projects`]: { items: [] } });
    const admin = await mount('cp-customer', { 'customer-id': ids.customer });
    await admin.screen.findByRole('heading', { name: 'Acme' });
    expect(admin.screen.getByText('pays late')).toBeTruthy();
    expect(admin.screen.getByRole('button', { name: 'New project' })).toBeTruthy();
  });

  it('hides notes and admin buttons from customers even if the server sent notes', async () => {
    fakeApi({ 'GET /api/v1/me': CUSTOMER, [`GET /api/v1/customers/${ids.customer}`]: acme, [`GET /api/v1/customers/${ids.customer}/projects`]: { items: [] } });
    const { screen } = await mount('cp-customer', { 'customer-id': ids.customer });
    await screen.findByRole('heading', { name: 'Acme' });
    await screen.findByText('This customer has no projects you can see.');
    expect(screen.queryByText('pays late')).toBeNull();
    expect(screen.queryByRole('button', { name: 'New project' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Edit' })).toBeNull();
  });

  it('says "not found or not visible" on 404', async () => {
    fakeApi({ 'GET /api/v1/me': CUSTOMER, [`GET /api/v1/customers/${ids.customer}/projects`]: { items: [] } });
    const { screen } = await mount('cp-customer', { 'customer-id': ids.customer });
    expect((await screen.findByRole('alert')).textContent).toBe('Not found, or not visible to you.');
  });

  it('asks to sign in again on 401', async () => {
    kcFailRefresh();
    fakeApi({ 'GET /api/v1/me': CUSTOMER, [`GET /api/v1/customers/${ids.customer}`]: problem(401), [`GET /api/v1/customers/${ids.customer}/projects`]: { items: [] } });
    const { screen } = await mount('cp-customer', { 'customer-id': ids.customer });
    await screen.findByRole('button', { name: 'Sign in' });
  });
});

function kcFailRefresh() {
  kc.failRefresh = true;
}
