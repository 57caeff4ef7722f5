import { fireEvent, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ADMIN, CUSTOMER, SUPPORT, fakeApi, json, mount, problem } from './harness';

const partner = (n: number, extra: Record<string, unknown> = {}) => ({
  id: `00000000-0000-7000-8000-00000000c0${String(n).padStart(2, '0')}`,
  name: `Partner ${n}`,
  partnerNumber: `P-${n}`,
  notes: `note ${n}`,
  createdAt: '',
  updatedAt: '',
  ...extra,
});

describe('<cp-partners>', () => {
  it('lists, searches and pages partners', async () => {
    const api = fakeApi({
      'GET /api/v1/me': SUPPORT,
      'GET /api/v1/partners': (c) =>
        c.query.get('cursor') === 'c2' ? { items: [partner(2)] } : c.query.get('q') === 'zz' ? { items: [] } : { items: [partner(1)], nextCursor: 'c2' },
    });
    const { screen } = await mount('cp-partners');
    await screen.findByRole('link', { name: 'Partner 1' });
    fireEvent.click(screen.getByRole('button', { name: 'Load more' }));
    await screen.findByRole('link', { name: 'Partner 2' });
    expect(api.sent('GET', '/partners')[1].query.get('cursor')).toBe('c2');
    fireEvent.change(screen.getByLabelText('Search partners'), { target: { value: 'zz' } });
    fireEvent.click(screen.getByRole('button', { name: 'Search' }));
    await screen.findByText('No partners found.');
    expect(api.sent('GET', '/partners')[2].query.get('q')).toBe('zz');
    // Support reads only.
    expect(screen.queryByRole('button', { name: 'New partner' })).toBeNull();
    expect(screen.queryByRole('button', { name: /^Edit/ })).toBeNull();
    expect(screen.queryByRole('button', { name: /^Delete/ })).toBeNull();
  });

  it('creates a partner as admin, with field errors next to their fields', async () => {
    const api = fakeApi({
      'GET /api/v1/me': ADMIN,
      'GET /api/v1/partners': { items: [] },
      'POST /api/v1/partners': (c, n) =>
        n === 1
          ? problem(409, { title: 'Conflict', detail: 'partner number taken', errors: [{ field: '/partnerNumber', message: 'already in use' }] })
          : json(201, partner(3, c.body)),
    });
    const { screen } = await mount('cp-partners');
    fireEvent.click(await screen.findByRole('button', { name: 'New partner' }));
    fireEvent.change(screen.getByLabelText(/^Name/), { target: { value: ' Integrators ' } });
    const number = screen.getByLabelText(/^Partner number/);
    fireEvent.change(number, { target: { value: 'P-9' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(number.getAttribute('aria-invalid')).toBe('true'));
    expect(screen.getByText('already in use')).toBeTruthy();
    await waitFor(() => expect(number.ownerDocument.activeElement === number || (number.getRootNode() as ShadowRoot).activeElement === number).toBe(true));
    fireEvent.change(number, { target: { value: 'P-10' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await screen.findByText('Partner Integrators created.');
    expect(api.sent('POST', '/partners')[1].body).toEqual({ name: 'Integrators', partnerNumber: 'P-10' });
  });

  it('edits with If-Match and deletes after confirmation, showing a 409 readably', async () => {
    const p = partner(1);
    const api = fakeApi({
      'GET /api/v1/me': ADMIN,
      'GET /api/v1/partners': { items: [p, partner(2)] },
      [`GET /api/v1/partners/${p.id}`]: json(200, p, { ETag: '"v7"' }),
      [`PUT /api/v1/partners/${p.id}`]: (c) => ({ ...p, ...c.body }),
      [`DELETE /api/v1/partners/${p.id}`]: problem(409, { title: 'Conflict', detail: 'partner is still linked to projects; unlink it first' }),
      [`DELETE /api/v1/partners/${partner(2).id}`]: () => undefined,
    });
    const { screen } = await mount('cp-partners');
    fireEvent.click(await screen.findByRole('button', { name: 'Edit Partner 1' }));
    const name = await screen.findByLabelText(/^Name/);
    fireEvent.change(name, { target: { value: 'Partner One' } });
    fireEvent.change(screen.getByLabelText(/^Internal notes/), { target: { value: '' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await screen.findByText('Saved.');
    const put = api.sent('PUT', `/partners/${p.id}`)[0];
    expect(put.headers.get('If-Match')).toBe('"v7"');
    expect(put.body).toEqual({ name: 'Partner One', partnerNumber: 'P-1' });

    fireEvent.click(screen.getByRole('button', { name: 'Delete Partner 1' }));
    expect(api.sent('DELETE', `/partners/${p.id}`)).toHaveLength(0);
    const confirm = screen.getByRole('group', { name: 'Delete partner Partner 1? This cannot be undone.' });
    fireEvent.click(within(confirm).getByRole('button', { name: 'Yes' }));
    await screen.findByText('This cannot be deleted: Partner is still linked to projects; unlink it first.');
    expect(api.sent('DELETE', `/partners/${p.id}`)).toHaveLength(1);

    fireEvent.click(screen.getByRole('button', { name: 'Delete Partner 2' }));
    fireEvent.click(within(screen.getByRole('group', { name: /Delete partner Partner 2/ })).getByRole('button', { name: 'Yes' }));
    await screen.findByText('Partner Partner 2 deleted.');
    expect(screen.queryByRole('link', { name: 'Partner 2' })).toBeNull();
  });

  it('shows one partner with notes for staff; admins edit and delete it there', async () => {
    const p = partner(1);
    const api = fakeApi({
      'GET /api/v1/me': ADMIN,
      [`GET /api/v1/partners/${p.id}`]: json(200, p, { ETag: '"v1"' }),
      [`DELETE /api/v1/partners/${p.id}`]: () => undefined,
    });
    const { screen, el } = await mount('cp-partners', { 'partner-id': p.id });
    await screen.findByRole('heading', { name: 'Partner 1' });
    expect(screen.getByText('note 1')).toBeTruthy();
    const seen: string[] = [];
    el.addEventListener('cp-navigate', (e) => seen.push((e as CustomEvent).detail.path));
    fireEvent.click(screen.getByRole('button', { name: 'Delete partner' }));
    fireEvent.click(screen.getByRole('button', { name: 'Yes' }));
    await screen.findByText('Partner Partner 1 deleted.');
    expect(api.sent('DELETE', `/partners/${p.id}`)).toHaveLength(1);
    expect(seen).toEqual(['#/partners']);
  });

  it('shows customers a partner without notes or write actions', async () => {
    const p = partner(1, { notes: undefined });
    fakeApi({ 'GET /api/v1/me': CUSTOMER, [`GET /api/v1/partners/${p.id}`]: p });
    const { screen } = await mount('cp-partners', { 'partner-id': p.id });
    await screen.findByRole('heading', { name: 'Partner 1' });
    expect(screen.queryByText('Internal notes')).toBeNull();
    expect(screen.queryByRole('button', { name: 'Edit' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Delete partner' })).toBeNull();
  });
});
