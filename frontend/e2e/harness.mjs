// Harness of the browser end-to-end tests: it builds and starts the real portal binary (and the
// keycloaktest double as a process), drives Debian's Chromium through playwright-core, and keeps
// screenshots and, on failure, the server logs in e2e/artifacts/.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const E2E_DIR = dirname(fileURLToPath(import.meta.url));
export const FRONTEND = resolve(E2E_DIR, '..');
export const REPO = resolve(FRONTEND, '..');
export const ARTIFACTS = join(E2E_DIR, 'artifacts');
export const CHROMIUM = '/usr/bin/chromium';
const MISSING_CHROMIUM = "install Debian's chromium: apt-get install -y chromium";

// The flags keep Chromium from phoning home (updates, sync, field trials) and from using QUIC,
// so that a run depends on nothing but the two local servers.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** UI waits: generous for a loaded CI machine, short enough that a broken screen fails fast. */
export const UI_TIMEOUT = 20_000;
/** Whole-scenario bound for node:test; both scenarios run in parallel well under 3 minutes. */
export const SCENARIO_TIMEOUT = 150_000;

/**
 * chromiumSkip returns why the browser tests cannot run here (a string for node:test's skip), or
 * false. In CI a missing browser is a failure, never a silent skip.
 */
export function chromiumSkip() {
  if (existsSync(CHROMIUM)) return false;
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: ${MISSING_CHROMIUM}`);
  return `${CHROMIUM} is missing: ${MISSING_CHROMIUM}`;
}

function goBuild(out, pkg) {
  const r = spawnSync('go', ['build', '-o', out, pkg], { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error) throw new Error(`go build ${pkg}: ${r.error.message} (is Go installed?)`);
  if (r.status !== 0) throw new Error(`go build ${pkg} failed (exit ${r.status})`);
}

/**
 * buildBinaries compiles the portal and keycloaktestd into dir. The portal embeds
 * internal/webui/dist as it is: run.mjs rebuilds the widgets first when their sources are newer.
 */
export function buildBinaries(dir) {
  const bins = { portal: join(dir, 'portal'), keycloaktestd: join(dir, 'keycloaktestd') };
  goBuild(bins.portal, './cmd/portal');
  goBuild(bins.keycloaktestd, './internal/identity/keycloak/keycloaktest/keycloaktestd');
  return bins;
}

let ownBuild;
/**
 * binaries returns the binaries run.mjs built (E2E_BIN_DIR), or builds them once for this process
 * when a test file is run on its own (node --test e2e/builtin.e2e.mjs).
 */
export async function binaries() {
  const dir = process.env.E2E_BIN_DIR;
  if (dir) return { portal: join(dir, 'portal'), keycloaktestd: join(dir, 'keycloaktestd') };
  if (!ownBuild) {
    ownBuild = (async () => {
      const d = await mkdtemp(join(tmpdir(), 'cp-e2e-bin-'));
      process.on('exit', () => spawnSync('rm', ['-rf', d]));
      return buildBinaries(d);
    })();
  }
  return ownBuild;
}

/** freePort asks the kernel for a port that is free now; the portal's public URL needs it up front. */
export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.unref();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

const running = new Set();
process.on('exit', () => {
  for (const p of running) p.child.kill('SIGKILL');
});

/** Proc is a child process whose stdout is JSON lines (slog), kept for waits and for the artifacts. */
export class Proc {
  constructor(name, cmd, args, opts) {
    this.name = name;
    this.output = '';
    this.records = [];
    this.waiters = new Set();
    this.exited = false;
    this.child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(this);
    let partial = '';
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk) => {
      this.output += chunk;
      partial += chunk;
      let nl;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        let rec;
        try {
          rec = JSON.parse(line);
        } catch {
          continue;
        }
        this.records.push(rec);
        for (const w of [...this.waiters]) w(rec);
      }
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk) => {
      this.output += chunk;
    });
    this.done = new Promise((ok) =>
      this.child.on('exit', (code, signal) => {
        this.exited = true;
        running.delete(this);
        this.output += `\n[${name} exited: ${signal ?? code}]\n`;
        for (const w of [...this.waiters]) w(null);
        ok();
      }),
    );
  }

  /** waitFor resolves with the first JSON record (past or future) that matches. */
  waitFor(what, match, ms = UI_TIMEOUT) {
    const seen = this.records.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((ok, fail) => {
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        fail(new Error(`${this.name}: no ${what} in its output within ${ms} ms`));
      }, ms);
      const w = (rec) => {
        if (rec === null) {
          clearTimeout(timer);
          this.waiters.delete(w);
          fail(new Error(`${this.name} exited before writing ${what}:\n${this.output.slice(-3000)}`));
        } else if (match(rec)) {
          clearTimeout(timer);
          this.waiters.delete(w);
          ok(rec);
        }
      };
      this.waiters.add(w);
    });
  }

  async stop() {
    if (this.exited) return;
    this.child.kill('SIGTERM');
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.done;
    clearTimeout(killer);
  }
}

/**
 * startPortal runs the binary on a port of its own with a fresh data directory (SQLite) and
 * returns once it logged "listening". extraEnv switches it to Keycloak mode.
 */
export async function startPortal(extraEnv = {}, port) {
  const { portal } = await binaries();
  port ??= await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dataDir = await mkdtemp(join(tmpdir(), 'cp-e2e-data-'));
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('PORTAL_')) delete env[k];
  Object.assign(env, {
    PORTAL_ADDR: `127.0.0.1:${port}`,
    // keycloak-js's redirect URIs must match what the browser sees.
    PORTAL_PUBLIC_URL: url,
    PORTAL_DATA_DIR: dataDir,
    PORTAL_LOG_LEVEL: 'info',
    ...extraEnv,
  });
  const proc = new Proc('portal', portal, [], { cwd: dataDir, env });
  const listening = await proc.waitFor('"listening" line', (r) => r.msg === 'listening', 30_000);
  return {
    url,
    issuer: listening.issuer,
    proc,
    dataDir,
    /** The bootstrap admin's random password, logged once at first start. */
    adminPassword: async () => (await proc.waitFor('bootstrap admin password', (r) => typeof r.password === 'string' && r.username)).password,
    /** The invitation link the log "mailer" wrote for this address (no SMTP configured). */
    invitationLink: async (email) => {
      const rec = await proc.waitFor(`invitation mail to ${email}`, (r) => r.to === email && /\/invitation#/.test(String(r.text)));
      const m = String(rec.text).match(/https?:\/\/\S+\/invitation#\S+/);
      if (!m) throw new Error(`no invitation link in the mail to ${email}: ${rec.text}`);
      return m[0];
    },
    async stop() {
      await proc.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** startKeycloak runs keycloaktestd with the shipped realm, these users and the portal's origin. */
export async function startKeycloak({ origin, adminSecret, users }) {
  const { keycloaktestd } = await binaries();
  const args = ['-realm-file', join(REPO, 'deploy/keycloak/realm-portal.json'), '-admin-secret', adminSecret, '-redirect-origin', origin];
  for (const u of users) args.push('-user', `${u.username}:${u.password}:${u.email}:${u.role}`);
  const proc = new Proc('keycloaktestd', keycloaktestd, args, { cwd: REPO, env: process.env });
  const ready = await proc.waitFor('{"url","issuer"} line', (r) => typeof r.issuer === 'string', 30_000);
  return { url: ready.url, issuer: ready.issuer, proc, stop: () => proc.stop() };
}

/**
 * openBrowser starts Chromium with a fresh profile directory. Playwright refuses --user-data-dir
 * in args, so the directory goes through launchPersistentContext, its way of passing that flag.
 */
export async function openBrowser() {
  const profile = await mkdtemp(join(tmpdir(), 'cp-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  context.setDefaultTimeout(UI_TIMEOUT);
  context.setDefaultNavigationTimeout(UI_TIMEOUT);
  const page = context.pages()[0] ?? (await context.newPage());
  const console = [];
  const pageErrors = [];
  const watch = (p) => {
    p.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') console.push(`[${m.type()}] ${p.url()}: ${m.text()}`);
    });
    p.on('pageerror', (e) => pageErrors.push(`${p.url()}: ${e.stack || e.message}`));
    p.on('response', (r) => {
      if (r.status() >= 400) console.push(`[http ${r.status()}] ${r.request().method()} ${r.url()}`);
    });
  };
  watch(page);
  context.on('page', watch);
  return {
    context,
    page,
    console,
    pageErrors,
    async close() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Artifacts numbers the screenshots of one scenario so that their order tells the story. */
export class Artifacts {
  constructor(scenario) {
    this.dir = join(ARTIFACTS, scenario);
    this.n = 0;
  }
  async reset() {
    await rm(this.dir, { recursive: true, force: true });
    await mkdir(this.dir, { recursive: true });
  }
  async shot(page, name, opts = {}) {
    this.n += 1;
    const file = join(this.dir, `${String(this.n).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true, ...opts });
    return file;
  }
  async write(name, text) {
    await writeFile(join(this.dir, name), text);
  }
}

/**
 * scenario runs body with the processes and browser it starts registered for clean-up; on
 * failure the server logs, the browser console and a last screenshot go to the artifacts.
 */
export async function scenario(name, body) {
  const art = new Artifacts(name);
  await art.reset();
  const procs = [];
  let browser;
  const env = {
    art,
    own: (p) => (procs.push(p), p),
    browser: async () => (browser = await openBrowser()),
  };
  try {
    await body(env);
    if (browser?.pageErrors.length) throw new Error(`uncaught errors in the page:\n${browser.pageErrors.join('\n')}`);
  } catch (err) {
    if (browser) {
      for (const p of browser.context.pages()) {
        await p.screenshot({ path: join(art.dir, `failure-${browser.context.pages().indexOf(p)}.png`), fullPage: true }).catch(() => {});
      }
      await art.write('browser.log', [...browser.pageErrors, ...browser.console].join('\n') + '\n');
    }
    for (const p of procs) await art.write(`${p.proc.name}.log`, p.proc.output);
    throw err;
  } finally {
    if (browser) await browser.close();
    for (const p of procs.reverse()) await p.stop();
  }
}
