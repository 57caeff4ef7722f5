// What a person does in the portal page, in the widgets' own words (roles, labels, texts from
// src/strings.ts). Playwright's role, label and text locators pierce the widgets' open shadow
// roots, so nothing here depends on their markup. Every step waits for the UI state it expects;
// none sleeps.
import assert from 'node:assert/strict';

/** The navigation only staff get: administration, partners and the audit log. */
export const ADMIN_NAV = ['Users', 'Catalogue', 'Ticketing', 'Partners', 'Audit log'];

export function portal(page) {
  return page.locator('cp-portal');
}

function escape(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A field by the start of its label: required ones read "Name (required)". */
export function field(scope, label) {
  return scope.getByLabel(new RegExp(`^${escape(label)}( \\(required\\))?$`));
}

/** shown waits for a locator and, on timeout, says which expectation of the UI failed. */
export async function shown(locator, expectation) {
  try {
    await locator.waitFor();
  } catch (err) {
    err.message = `${expectation}: ${err.message}`;
    throw err;
  }
}

export function nav(page) {
  return portal(page).getByRole('navigation', { name: 'Main' });
}

/** go follows a main navigation link and waits for the screen's heading. */
export async function go(page, link, heading = link) {
  await nav(page).getByRole('link', { name: link, exact: true }).click();
  await screenHeading(page, heading).waitFor();
}

export function screenHeading(page, name) {
  return portal(page).getByRole('heading', { level: 2, name, exact: true });
}

/**
 * signIn starts keycloak-js's sign-in from the portal's button, fills the issuer's login page
 * (Keycloak's element ids, which both issuers use) and waits until the portal greets the user.
 */
export async function signIn(page, portalUrl, username, password, { art } = {}) {
  await page.goto(`${portalUrl}/`);
  await portal(page).getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.locator('#kc-form-login').waitFor();
  if (art) await art.shot(page, 'login-page');
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await page.locator('#kc-login').click();
  const greeting = portal(page).getByText(/^Signed in as /);
  const refused = page.locator('#input-error, #kc-error-message');
  await greeting.or(refused).first().waitFor();
  if (await refused.isVisible()) throw new Error(`the issuer refused ${username}: ${await refused.innerText()}`);
  await nav(page).waitFor();
  return greeting.innerText();
}

/** signInRefused submits wrong credentials and returns the login page's error text. */
export async function signInRefused(page, portalUrl, username, password) {
  await page.goto(`${portalUrl}/`);
  await portal(page).getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.locator('#kc-form-login').waitFor();
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await page.locator('#kc-login').click();
  const error = page.locator('#input-error');
  await shown(error, `the issuer should refuse ${username} with a wrong password`);
  return error.innerText();
}

/**
 * signOut ends the session at the issuer and waits for the portal's signed-out state. The old
 * page keeps its "Sign out" button until it unloads and keycloak-js renders "Sign in" only after
 * its check on the next load, so seeing "Sign in" means a fresh page found no session.
 */
export async function signOut(page, portalUrl) {
  const ended = page.waitForRequest((r) => r.isNavigationRequest() && /\/protocol\/openid-connect\/logout\b/.test(r.url()));
  await portal(page).getByRole('button', { name: 'Sign out', exact: true }).click();
  await ended;
  await portal(page).getByRole('button', { name: 'Sign in', exact: true }).waitFor();
  assert.ok(page.url().startsWith(portalUrl), `signed out onto ${page.url()}`);
  assert.equal(await portal(page).getByText(/^Signed in as /).count(), 0);
}

/** navLabels lists the main navigation once it is shown. */
export async function navLabels(page) {
  await nav(page).waitFor();
  return nav(page).getByRole('link').allInnerTexts();
}

export async function assertNoAdminNav(page) {
  const labels = (await navLabels(page)).map((s) => s.trim());
  for (const l of ADMIN_NAV) assert.ok(!labels.includes(l), `a non-admin sees the ${l} navigation: ${labels.join(', ')}`);
  assert.ok(labels.includes('Tickets'), `no Tickets navigation: ${labels.join(', ')}`);
}

/** createCustomer uses the customers screen's form and waits for the new row. */
export async function createCustomer(page, { name, number }) {
  await go(page, 'Customers');
  const p = portal(page);
  await p.getByRole('button', { name: 'New customer', exact: true }).click();
  const form = p.getByRole('form', { name: 'New customer' });
  await field(form, 'Name').fill(name);
  await field(form, 'Customer number').fill(number);
  await form.getByRole('button', { name: 'Save', exact: true }).click();
  await p.getByRole('status').filter({ hasText: `Customer ${name} created.` }).waitFor();
  const link = p.getByRole('table', { name: 'Customers' }).getByRole('link', { name, exact: true });
  await link.waitFor();
  return link;
}

/** createProject opens the customer and adds a project; the portal then shows the project. */
export async function createProject(page, customerName, projectName) {
  await go(page, 'Customers');
  const p = portal(page);
  await p.getByRole('table', { name: 'Customers' }).getByRole('link', { name: customerName, exact: true }).click();
  await screenHeading(page, customerName).waitFor();
  const customerId = hashId(page, 'customers');
  await p.getByRole('button', { name: 'New project', exact: true }).click();
  const form = p.getByRole('form', { name: 'New project' });
  await field(form, 'Name').fill(projectName);
  await form.getByRole('button', { name: 'Save', exact: true }).click();
  await shown(screenHeading(page, projectName), `after saving project ${projectName} the portal should show it (CustomerView navigates to #/projects/<id>)`);
  return { customerId, projectId: hashId(page, 'projects') };
}

function hashId(page, kind) {
  const m = new URL(page.url()).hash.match(new RegExp(`^#/${kind}/([^/]+)$`));
  assert.ok(m, `expected #/${kind}/<id>, the page is at ${page.url()}`);
  return decodeURIComponent(m[1]);
}

/** inviteUser invites through the users screen (the built-in issuer mails, here logs, a link). */
export async function inviteUser(page, { email, username, firstName, lastName, role = 'Customer' }) {
  await go(page, 'Users');
  const p = portal(page);
  await p.getByRole('button', { name: 'Invite user', exact: true }).click();
  const form = p.getByRole('form', { name: 'Invite a user' });
  await field(form, 'Email').fill(email);
  await field(form, 'Username').fill(username);
  if (firstName) await field(form, 'First name').fill(firstName);
  if (lastName) await field(form, 'Last name').fill(lastName);
  await field(form, 'Role').selectOption({ label: role });
  await form.getByRole('button', { name: 'Invite user', exact: true }).click();
  await p.getByRole('status').filter({ hasText: `${username} was invited.` }).waitFor();
  await p.getByRole('table', { name: 'Portal users' }).getByRole('cell', { name: username, exact: true }).waitFor();
}

export async function openProject(page, portalUrl, projectId, projectName) {
  await page.goto(`${portalUrl}/#/projects/${encodeURIComponent(projectId)}`);
  await screenHeading(page, projectName).waitFor();
}

/** assignUser assigns a user to the project on screen by username. */
export async function assignUser(page, username) {
  const p = portal(page);
  const form = p.getByRole('form', { name: 'Assign user' });
  await field(form, 'Username to assign').fill(username);
  await form.getByRole('button', { name: 'Assign user', exact: true }).click();
  await p.getByRole('table', { name: 'Users assigned to this project' }).getByRole('cell', { name: username, exact: true }).waitFor();
}

/**
 * setPassword redeems an invitation link on the portal's /invitation page, in a tab of its own as
 * when it is opened from a mail (the token is in the fragment: reusing a tab already on
 * /invitation would be a same-document navigation that runs no script).
 */
export async function setPassword(context, link, password, { art, name } = {}) {
  const page = await context.newPage();
  try {
    await page.goto(link);
    await page.getByLabel(/^New password/).fill(password);
    await page.getByLabel('Repeat the password').fill(password);
    await page.getByRole('button', { name: 'Save password' }).click();
    const msg = page.locator('#message');
    await msg.filter({ hasText: /\S/ }).waitFor();
    const text = await msg.innerText();
    assert.match(text, /Your password is saved/, `the invitation page said: ${text}`);
    // The secret leaves the address bar once used.
    assert.equal(new URL(page.url()).hash, '');
    if (art) await art.shot(page, name ?? 'invitation-accepted');
  } finally {
    await page.close();
  }
}
