// Scenario 2: the portal in Keycloak mode against keycloaktest (a Keycloak double speaking the
// real wire format, with Keycloak's login page), signed in through the real keycloak-js.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { SCENARIO_TIMEOUT, chromiumSkip, freePort, scenario, startKeycloak, startPortal } from './harness.mjs';
import { ADMIN_NAV, assertNoAdminNav, createCustomer, go, inviteUser, navLabels, portal, signIn, signInRefused, signOut } from './ui.mjs';

const admin = { username: 'kc-admin', password: 'admin-pass-1', email: 'kc-admin@example.com', role: 'cp-admin' };
const carol = { username: 'carol', password: 'carol-pass-1', email: 'carol@example.com', role: 'cp-customer' };
const dave = { username: 'dave', email: 'dave@example.com', firstName: 'Dave', lastName: 'Invited' };

/** keycloakUsers asks Keycloak's admin API, as the portal's admin client, for users by username. */
async function keycloakUsers(kc, secret, username) {
  const tok = await fetch(`${kc.issuer}/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'customer-portal-admin', client_secret: secret }),
  });
  assert.equal(tok.status, 200, `client_credentials: ${await tok.clone().text()}`);
  const { access_token } = await tok.json();
  const realm = kc.issuer.slice(kc.issuer.lastIndexOf('/') + 1);
  const res = await fetch(`${kc.url}/admin/realms/${realm}/users?exact=true&username=${encodeURIComponent(username)}`, {
    headers: { Authorization: `Bearer ${access_token}` },
  });
  assert.equal(res.status, 200, `admin users: ${await res.clone().text()}`);
  return res.json();
}

test('Keycloak mode: admin signs in, manages customers, invites a user into Keycloak; a customer gets no admin navigation', { skip: chromiumSkip(), timeout: SCENARIO_TIMEOUT }, () =>
  scenario('keycloak', async ({ art, own, browser }) => {
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const adminSecret = randomBytes(16).toString('hex');
    // Keycloak first: the portal fetches its signing keys and realm from it at start.
    const kc = own(await startKeycloak({ origin, adminSecret, users: [admin, carol] }));
    const srv = own(
      await startPortal(
        {
          PORTAL_OIDC_ISSUER_URL: kc.issuer,
          PORTAL_OIDC_CLIENT_ID: 'customer-portal',
          PORTAL_KEYCLOAK_ADMIN_CLIENT_ID: 'customer-portal-admin',
          PORTAL_KEYCLOAK_ADMIN_CLIENT_SECRET: adminSecret,
        },
        port,
      ),
    );
    assert.equal(srv.url, origin);
    assert.equal(srv.issuer, kc.issuer, 'the portal names Keycloak as its issuer');
    const { page } = await browser();

    // The page takes keycloak-js's settings from the server: the Keycloak realm, not the portal.
    const cfg = await (await fetch(`${srv.url}/portal-config.json`)).json();
    assert.equal(`${cfg.auth.url}/realms/${cfg.auth.realm}`, kc.issuer);

    await page.goto(`${srv.url}/`);
    await portal(page).getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    await art.shot(page, 'signed-out');

    assert.match(await signInRefused(page, srv.url, admin.username, 'not-the-password'), /invalid/i);
    await art.shot(page, 'login-refused');
    await signIn(page, srv.url, admin.username, admin.password, { art });
    assert.ok(page.url().startsWith(srv.url), `back on the portal after signing in, not ${page.url()}`);
    const labels = (await navLabels(page)).map((s) => s.trim());
    for (const l of ['Customers', 'Tickets', ...ADMIN_NAV]) assert.ok(labels.includes(l), `the admin misses ${l}: ${labels}`);

    await go(page, 'Customers');
    await portal(page).getByText('No customers found.').waitFor();
    await createCustomer(page, { name: 'Keycloak Customer GmbH', number: 'KC-1' });
    await art.shot(page, 'customers');

    // The users screen lists the portal's records of users (no remote call per request); an
    // invitation goes through the portal's admin client into Keycloak and appears there.
    await inviteUser(page, dave);
    const users = portal(page).getByRole('table', { name: 'Portal users' });
    const daveRow = users.getByRole('row').filter({ has: page.getByRole('cell', { name: dave.username, exact: true }) });
    await daveRow.getByRole('cell', { name: dave.email, exact: true }).waitFor();
    await daveRow.getByRole('cell', { name: 'Invitation pending', exact: true }).waitFor();
    assert.equal(await users.getByRole('combobox', { name: `Role of ${dave.username}` }).inputValue(), 'cp-customer');
    await art.shot(page, 'users');
    const inKeycloak = await keycloakUsers(kc, adminSecret, dave.username);
    assert.equal(inKeycloak.length, 1, `Keycloak has no user ${dave.username}: ${JSON.stringify(inKeycloak)}`);
    assert.equal(inKeycloak[0].email, dave.email);

    await signOut(page, srv.url);
    await art.shot(page, 'signed-out-again');
    // The Keycloak session is gone too: keycloak-js's check-sso on reload finds nobody.
    await page.reload();
    await portal(page).getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    assert.equal(await portal(page).getByText(/^Signed in as /).count(), 0, 'a reload signed the admin in again');
    assert.equal(await portal(page).getByRole('navigation', { name: 'Main' }).count(), 0);

    await signIn(page, srv.url, carol.username, carol.password);
    await assertNoAdminNav(page);
    await go(page, 'Tickets');
    await portal(page).getByText('No tickets match.').waitFor();
    // The admin screens are not merely hidden: their routes say "not found" to a customer.
    await page.goto(`${srv.url}/#/admin/users`);
    await portal(page).getByRole('heading', { level: 2, name: 'Page not found' }).waitFor();
    await art.shot(page, 'customer-admin-route');
  }),
);
