// Scenario 1: the embedded default (SQLite, built-in issuer, built-in ticketing). The bootstrap
// admin sets up two customers through the widgets, their users accept invitations from the log,
// and customer A's user works a ticket that customer B's user can neither list nor open.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SCENARIO_TIMEOUT, chromiumSkip, scenario, startPortal } from './harness.mjs';
import {
  ADMIN_NAV,
  assertNoAdminNav,
  assignUser,
  createCustomer,
  createProject,
  field,
  go,
  inviteUser,
  navLabels,
  openProject,
  portal,
  screenHeading,
  setPassword,
  shown,
  signIn,
  signInRefused,
  signOut,
} from './ui.mjs';

const A = { customer: 'Acme A', number: 'A-100', project: 'Acme Rollout' };
const B = { customer: 'Beta B', number: 'B-200', project: 'Beta Migration' };
const alice = { username: 'alice', email: 'alice@acme.example', firstName: 'Alice', lastName: 'Anders', password: 'alice-secret-1' };
const bob = { username: 'bob', email: 'bob@beta.example', firstName: 'Bob', lastName: 'Berg', password: 'bob-secret-12' };
const NOT_FOUND = 'Not found, or not visible to you.';

/** addCatalogueEntry fills one "New ..." form of the catalogue screen and waits for its row. */
async function addCatalogueEntry(page, newLabel, table, fields) {
  const p = portal(page);
  await p.getByRole('button', { name: newLabel, exact: true }).click();
  const form = p.getByRole('form', { name: newLabel });
  for (const [label, value] of Object.entries(fields)) await field(form, label).fill(value);
  await form.getByRole('button', { name: 'Save', exact: true }).click();
  await p.getByRole('table', { name: table }).getByRole('cell', { name: fields.Name, exact: true }).waitFor();
}

/** expectNotFound opens a route and waits for the widget's "not found" and the API's 404. */
async function expectNotFound(page, url, apiPath) {
  const answered = page.waitForResponse((r) => new URL(r.url()).pathname === apiPath && r.request().method() === 'GET');
  await page.goto(url);
  const res = await answered;
  assert.equal(res.status(), 404, `GET ${apiPath} answered ${res.status()}, want 404`);
  assert.match(res.headers()['content-type'] ?? '', /application\/problem\+json/);
  await portal(page).getByRole('alert').filter({ hasText: NOT_FOUND }).waitFor();
}

test('embedded default: admin sets up customers, a customer works a ticket, another customer cannot see it', { skip: chromiumSkip(), timeout: SCENARIO_TIMEOUT }, () =>
  scenario('builtin', async ({ art, own, browser }) => {
    const srv = own(await startPortal());
    assert.equal(srv.issuer, `${srv.url}/realms/portal`);
    const adminPassword = await srv.adminPassword();
    const { page, context } = await browser();

    // --- the bootstrap admin, signed in through the built-in issuer's login page
    await page.goto(`${srv.url}/`);
    await portal(page).getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    await art.shot(page, 'signed-out');
    assert.match(await signInRefused(page, srv.url, 'admin', 'not-the-password'), /invalid/i);
    await signIn(page, srv.url, 'admin', adminPassword, { art });
    const labels = (await navLabels(page)).map((s) => s.trim());
    for (const l of ['Customers', 'Tickets', ...ADMIN_NAV]) assert.ok(labels.includes(l), `the admin misses ${l}: ${labels}`);

    await go(page, 'Customers');
    await portal(page).getByText('No customers found.').waitFor();
    await art.shot(page, 'customers-empty');
    await createCustomer(page, { name: A.customer, number: A.number });
    const a = await createProject(page, A.customer, A.project);

    // Tickets need a ticket type and an entitled project: catalogue first, then a subscription.
    await go(page, 'Catalogue');
    await addCatalogueEntry(page, 'New product version', 'Product versions', { Name: 'Portal 1.0', 'Start date': '2020-01-01' });
    await addCatalogueEntry(page, 'New subscription level', 'Subscription levels', { Name: 'Silver', Rank: '5' });
    await addCatalogueEntry(page, 'New ticket type', 'Ticket types', { Name: 'Incident' });
    await art.shot(page, 'catalogue');

    await openProject(page, srv.url, a.projectId, A.project);
    await portal(page).getByText('This project may not open tickets right now.').waitFor();
    await portal(page).getByRole('button', { name: 'Request subscription', exact: true }).click();
    const sub = portal(page).getByRole('form', { name: 'Add a subscription' });
    await field(sub, 'Subscription level').selectOption({ label: 'Silver' });
    await field(sub, 'Product version').selectOption({ label: 'Portal 1.0' });
    await sub.getByRole('button', { name: 'Add subscription', exact: true }).click();
    await portal(page).getByText('This project may open tickets.').waitFor();

    await inviteUser(page, { ...alice, role: 'Customer' });
    await art.shot(page, 'users');
    await openProject(page, srv.url, a.projectId, A.project);
    await assignUser(page, alice.username);
    await art.shot(page, 'project-a');

    await createCustomer(page, { name: B.customer, number: B.number });
    const b = await createProject(page, B.customer, B.project);
    await inviteUser(page, { ...bob, role: 'Customer' });
    await openProject(page, srv.url, b.projectId, B.project);
    await assignUser(page, bob.username);
    await signOut(page, srv.url);

    // --- the invited users choose their passwords on the links the log "mailed"
    await setPassword(context, await srv.invitationLink(alice.email), alice.password, { art });
    await setPassword(context, await srv.invitationLink(bob.email), bob.password);

    // --- customer A's user
    await signIn(page, srv.url, alice.username, alice.password);
    await assertNoAdminNav(page);
    await screenHeading(page, 'Tickets').waitFor();
    await portal(page).getByText('No tickets match.').waitFor();
    await art.shot(page, 'tickets-empty');

    await portal(page).getByRole('link', { name: 'Open ticket', exact: true }).click();
    await screenHeading(page, 'Open a ticket').waitFor();
    const form = portal(page).getByRole('form', { name: 'Open a ticket' });
    await field(form, 'Project').selectOption({ label: A.project });
    await field(form, 'Type').selectOption({ label: 'Incident' });
    const summary = 'Login page shows an error after the upgrade';
    await field(form, 'Summary').fill(summary);
    await field(form, 'Description').fill('Since version 1.0 the login page answers 500 for every user.');
    await field(form, 'Priority').selectOption({ label: 'High' });
    await art.shot(page, 'open-ticket');
    await form.getByRole('button', { name: 'Open ticket', exact: true }).click();
    // The shell answers the widget's cp-ticket-created event by showing the new ticket.
    const opened = portal(page).getByRole('heading', { level: 2, name: new RegExp(`^\\S+: ${summary}$`) });
    await shown(opened, 'after opening a ticket the portal should show it (cp-ticket-created → #/tickets/<key>)');
    const key = decodeURIComponent(new URL(page.url()).hash.slice('#/tickets/'.length));
    assert.equal(await opened.innerText(), `${key}: ${summary}`);

    await go(page, 'Tickets');
    const list = portal(page).getByRole('table', { name: 'Tickets' });
    const row = list.getByRole('row').filter({ has: page.getByRole('link', { name: key, exact: true }) });
    await row.getByRole('cell', { name: summary, exact: true }).waitFor();
    await row.getByRole('cell', { name: 'High', exact: true }).waitFor();
    await art.shot(page, 'tickets');
    await page.setViewportSize({ width: 360, height: 780 });
    await art.shot(page, 'tickets-mobile-360');
    // On a phone the page itself must not scroll sideways (a wide table may, inside its wrapper).
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the ticket list is ${overflow} px wider than a 360 px screen`);
    await page.setViewportSize({ width: 1280, height: 900 });

    await row.getByRole('link', { name: key, exact: true }).click();
    await screenHeading(page, `${key}: ${summary}`).waitFor();
    await portal(page).getByText('No comments yet.').waitFor();
    const comment = 'It also happens in a private window.';
    const commentForm = portal(page).getByRole('form', { name: 'Add comment' });
    await field(commentForm, 'Comment').fill(comment);
    await commentForm.getByRole('button', { name: 'Add comment', exact: true }).click();
    await portal(page).getByRole('status').filter({ hasText: 'Comment added.' }).waitFor();
    await portal(page).getByRole('list', { name: 'Comments' }).getByRole('listitem').filter({ hasText: comment }).waitFor();
    // A reload shows the comment as the server stored it, not just the widget's local copy.
    await page.reload();
    await portal(page).getByRole('list', { name: 'Comments' }).getByRole('listitem').filter({ hasText: comment }).waitFor();
    await art.shot(page, 'ticket');

    await go(page, 'Customers');
    await portal(page).getByRole('table', { name: 'Customers' }).getByRole('link', { name: A.customer, exact: true }).waitFor();
    assert.equal(await portal(page).getByRole('link', { name: B.customer }).count(), 0, `${alice.username} sees ${B.customer}`);
    await signOut(page, srv.url);

    // --- customer B's user sees none of A's data, and A's URLs answer 404
    await signIn(page, srv.url, bob.username, bob.password);
    await assertNoAdminNav(page);
    await screenHeading(page, 'Tickets').waitFor();
    await portal(page).getByText('No tickets match.').waitFor();
    await go(page, 'Customers');
    await portal(page).getByRole('table', { name: 'Customers' }).getByRole('link', { name: B.customer, exact: true }).waitFor();
    assert.equal(await portal(page).getByRole('link', { name: A.customer }).count(), 0, `${bob.username} sees ${A.customer}`);
    await art.shot(page, 'customers-as-b');
    await expectNotFound(page, `${srv.url}/#/tickets/${encodeURIComponent(key)}`, `/api/v1/tickets/${key}`);
    await art.shot(page, 'foreign-ticket');
    await expectNotFound(page, `${srv.url}/#/projects/${a.projectId}`, `/api/v1/projects/${a.projectId}`);
    await expectNotFound(page, `${srv.url}/#/customers/${a.customerId}`, `/api/v1/customers/${a.customerId}`);
    // The admin screens are not merely hidden from a customer: their routes say "not found".
    for (const route of ['users', 'catalogue', 'ticketing', 'audit']) {
      await go(page, 'Tickets');
      await page.goto(`${srv.url}/#/admin/${route}`);
      await screenHeading(page, 'Page not found').waitFor();
    }
  }),
);
