import { waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { call, createApi } from '../api/client';
import { ApiError, splitFieldErrors, toApiError } from '../api/problem';
import { getAuth, resetAuthRegistry } from '../auth';
import { resolveConfig } from '../config';
import { kc } from './fakeKeycloak';
import { ADMIN, API, fakeApi, json, mount, problem } from './harness';

const authCfg = { url: 'http://kc.test', realm: 'portal', clientId: 'customer-portal' };

describe('shared keycloak registry', () => {
  it('creates and initialises one instance for concurrent callers of the same issuer', async () => {
    let open!: () => void;
    kc.initGate = new Promise((r) => (open = r));
    const a = getAuth(authCfg);
    const b = getAuth({ ...authCfg });
    open();
    const [sa, sb] = await Promise.all([a, b]);
    expect(sa).toBe(sb);
    expect(kc.instances).toHaveLength(1);
    expect(kc.initCalls).toBe(1);
    expect(kc.instances[0].config).toEqual(authCfg);
    expect(kc.instances[0].initOptions).toMatchObject({ onLoad: 'check-sso', pkceMethod: 'S256', checkLoginIframe: false });
  });

  it('never sends the hash route to the issuer and restores it after the round trip', async () => {
    window.history.replaceState(null, '', '/portal?x=1#/tickets/CP-1');
    const auth = await getAuth(authCfg);
    expect(kc.instances[0].initOptions).toMatchObject({ responseMode: 'query', redirectUri: 'http://localhost:3000/portal?x=1' });
    await auth.login();
    expect(kc.loginCalls).toEqual([{ redirectUri: 'http://localhost:3000/portal?x=1' }]);
    // The issuer sends the browser back without the hash; the route comes back from storage.
    window.history.replaceState(null, '', '/portal?x=1&state=s1&code=c1');
    resetAuthRegistry();
    await getAuth(authCfg);
    expect(window.location.hash).toBe('#/tickets/CP-1');
    window.history.replaceState(null, '', '/portal?x=1#/tickets');
    await auth.logout();
    expect(kc.logoutCalls).toEqual([{ redirectUri: 'http://localhost:3000/portal?x=1' }]);
    window.history.replaceState(null, '', '/');
  });

  it('keeps separate instances for different realms or clients', async () => {
    await getAuth(authCfg);
    await getAuth({ ...authCfg, realm: 'other' });
    await getAuth({ ...authCfg, clientId: 'other' });
    expect(kc.instances).toHaveLength(3);
  });

  it('initialises once for several widgets on one page', async () => {
    const api = fakeApi({ 'GET /api/v1/me': ADMIN, 'GET /api/v1/customers': { items: [] }, 'GET /api/v1/tickets': { items: [] }, 'GET /api/v1/ticket-types': { items: [] } });
    const one = await mount('cp-customers');
    const two = await mount('cp-tickets');
    const three = await mount('cp-customers');
    await one.screen.findByRole('heading', { name: 'Customers' });
    await two.screen.findByRole('heading', { name: 'Tickets' });
    await three.screen.findByRole('heading', { name: 'Customers' });
    expect(kc.instances).toHaveLength(1);
    expect(kc.initCalls).toBe(1);
    expect(api.sent('GET', '/me').length).toBeGreaterThan(0);
  });
});

describe('api client', () => {
  it('sends the bearer token, refreshed shortly before expiry', async () => {
    const api = fakeApi({ 'GET /api/v1/me': ADMIN });
    const auth = await getAuth(authCfg);
    const me = await call(createApi(API, auth).GET('/me'));
    expect(me.username).toBe('ada');
    expect(api.calls[0].headers.get('Authorization')).toBe('Bearer tok-1');
    expect(kc.updateCalls).toContain(30);
  });

  it('refreshes the token once on 401 and repeats the request with the new token and body', async () => {
    kc.refreshTokens = ['tok-2'];
    const api = fakeApi({
      'POST /api/v1/customers': (c) => (c.headers.get('Authorization') === 'Bearer tok-2' ? json(201, { id: 'x', name: c.body.name }) : problem(401)),
    });
    const auth = await getAuth(authCfg);
    const created = await call(createApi(API, auth).POST('/customers', { body: { name: 'Acme', customerNumber: 'C1' } }));
    expect(created).toMatchObject({ name: 'Acme' });
    expect(api.calls.map((c) => c.headers.get('Authorization'))).toEqual(['Bearer tok-1', 'Bearer tok-2']);
    expect(api.calls[1].body).toEqual({ name: 'Acme', customerNumber: 'C1' });
    expect(kc.updateCalls).toContain(-1);
    expect(auth.authenticated).toBe(true);
  });

  it('gives up after one retry and ends the session', async () => {
    kc.refreshTokens = ['tok-2'];
    const api = fakeApi({ 'GET /api/v1/me': problem(401, { detail: 'token revoked' }) });
    const auth = await getAuth(authCfg);
    const err = await call(createApi(API, auth).GET('/me')).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(401);
    expect(api.calls).toHaveLength(2);
    expect(auth.authenticated).toBe(false);
  });

  it('does not retry when the refresh itself fails', async () => {
    kc.failRefresh = true;
    const api = fakeApi({ 'GET /api/v1/me': problem(401) });
    const auth = await getAuth(authCfg);
    await expect(call(createApi(API, auth).GET('/me'))).rejects.toMatchObject({ status: 401 });
    expect(api.calls).toHaveLength(1);
    expect(auth.authenticated).toBe(false);
  });
});

describe('problem+json', () => {
  it('maps field errors in their various spellings onto known fields and keeps the rest', () => {
    const err = toApiError(400, {
      type: 'urn:x',
      title: 'Invalid request',
      status: 400,
      errors: [
        { field: 'customerNumber', message: 'is required' },
        { field: '/name', message: 'too long' },
        { field: 'body.contactEmail', message: 'bad email' },
        { field: 'mystery', message: 'odd' },
      ],
    });
    const { byField, rest } = splitFieldErrors(err, ['name', 'customerNumber', 'contactEmail']);
    expect(byField).toEqual({ customerNumber: 'is required', name: 'too long', contactEmail: 'bad email' });
    expect(rest).toEqual(['mystery: odd']);
  });
});

describe('configuration', () => {
  it('asks the portal for the issuer when auth-url is absent, once for several widgets', async () => {
    const api = fakeApi({
      'GET /portal-config.json': { apiUrl: 'http://localhost:8080', auth: { url: 'http://issuer.test', realm: 'r1', clientId: 'c1' } },
    });
    const [a, b] = await Promise.all([resolveConfig({ apiUrl: API }), resolveConfig({ apiUrl: `${API}/` })]);
    expect(a).toEqual({ apiUrl: API, auth: { url: 'http://issuer.test', realm: 'r1', clientId: 'c1', silentCheckSso: undefined } });
    expect(b.auth).toEqual(a.auth);
    expect(api.calls.filter((c) => c.path === '/portal-config.json')).toHaveLength(1);
  });

  it('prefers attributes and does not fetch when auth-url is given', async () => {
    const api = fakeApi({});
    const c = await resolveConfig({ apiUrl: API, authUrl: 'https://kc.example.com/', realm: 'acme' });
    expect(c.auth).toMatchObject({ url: 'https://kc.example.com', realm: 'acme', clientId: 'customer-portal' });
    expect(api.calls).toHaveLength(0);
  });

  it('a widget without auth-url signs in against the issuer the server names', async () => {
    fakeApi({
      'GET /portal-config.json': { apiUrl: API, auth: { url: 'http://issuer.test', realm: 'portal', clientId: 'customer-portal' } },
      'GET /api/v1/me': ADMIN,
      'GET /api/v1/customers': { items: [] },
    });
    await mount('cp-customers', { 'auth-url': '' }).then(({ screen }) => screen.findByRole('heading', { name: 'Customers' }));
    await waitFor(() => expect(kc.instances[0]?.config).toEqual({ url: 'http://issuer.test', realm: 'portal', clientId: 'customer-portal' }));
  });
});

describe('custom elements', () => {
  it('registers every widget', async () => {
    fakeApi({ 'GET /api/v1/me': ADMIN });
    await mount('cp-portal');
    for (const tag of [
      'cp-portal',
      'cp-customers',
      'cp-customer',
      'cp-project',
      'cp-tickets',
      'cp-ticket',
      'cp-open-ticket',
      'cp-subscription-request',
      'cp-admin-ticketing',
      'cp-admin-catalogue',
      'cp-users',
    ]) {
      expect(customElements.get(tag), tag).toBeDefined();
    }
  });

  it('passes attributes as props and re-renders when they change', async () => {
    const detail = (key: string) => ({
      key,
      projectId: 'p',
      customerId: 'c',
      summary: `Summary of ${key}`,
      description: '',
      priority: 'low',
      status: 'open',
      statusCategory: 'new',
      reporter: { id: 'u', username: 'cora' },
      participants: [],
      createdAt: '2026-01-01T00:00:00Z',
      updatedAt: '2026-01-01T00:00:00Z',
      syncedAt: '2026-01-01T00:00:00Z',
      stale: false,
      comments: [],
    });
    const api = fakeApi({ 'GET /api/v1/me': ADMIN, 'GET /api/v1/tickets/CP-1': detail('CP-1'), 'GET /api/v1/tickets/CP-2': detail('CP-2') });
    const { el, screen } = await mount('cp-ticket', { 'ticket-id': 'CP-1' });
    await screen.findByRole('heading', { name: 'CP-1: Summary of CP-1' });
    el.setAttribute('ticket-id', 'CP-2');
    await screen.findByRole('heading', { name: 'CP-2: Summary of CP-2' });
    expect(api.sent('GET', '/tickets/CP-2')).toHaveLength(1);
  });

  it('uses an open shadow root with the theme stylesheet inside', async () => {
    fakeApi({ 'GET /api/v1/me': ADMIN, 'GET /api/v1/customers': { items: [] } });
    const { el } = await mount('cp-customers');
    expect(el.shadowRoot?.mode).toBe('open');
    expect(el.shadowRoot?.querySelector('style')?.textContent).toContain('--cp-color-primary');
  });

  it('shows Sign in to a signed-out visitor and starts the login', async () => {
    kc.authenticated = false;
    const api = fakeApi({});
    const { screen } = await mount('cp-customers');
    (await screen.findByRole('button', { name: 'Sign in' })).click();
    await waitFor(() => expect(kc.loginCalls).toHaveLength(1));
    expect(api.calls).toHaveLength(0);
  });
});
