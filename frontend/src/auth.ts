import Keycloak from 'keycloak-js';
import type { AuthConfig } from './config';

/** AuthSession is what widgets need from the sign-in machinery, whatever issuer is behind it. */
export interface AuthSession {
  readonly authenticated: boolean;
  /** token returns a fresh access token (refreshed when it expires within 30 s), or undefined. */
  token(): Promise<string | undefined>;
  /** refresh forces a new access token; false when the session is over. */
  refresh(): Promise<boolean>;
  /** expire marks the session as over (the API refused even a fresh token). */
  expire(): void;
  login(): Promise<void>;
  logout(): Promise<void>;
  subscribe(listener: () => void): () => void;
}

class KeycloakSession implements AuthSession {
  #kc: Keycloak;
  #listeners = new Set<() => void>();
  #expired = false;

  constructor(kc: Keycloak) {
    this.#kc = kc;
    kc.onAuthLogout = () => this.#notify();
    kc.onAuthSuccess = () => {
      this.#expired = false;
      this.#notify();
    };
  }

  get authenticated(): boolean {
    return !this.#expired && Boolean(this.#kc.authenticated);
  }

  async token(): Promise<string | undefined> {
    if (!this.authenticated) return undefined;
    try {
      await this.#kc.updateToken(30);
    } catch {
      this.expire();
      return undefined;
    }
    return this.#kc.token;
  }

  async refresh(): Promise<boolean> {
    if (!this.authenticated) return false;
    try {
      // -1 forces a refresh even when the token still looks valid: the API said it is not.
      await this.#kc.updateToken(-1);
      return true;
    } catch {
      this.expire();
      return false;
    }
  }

  expire(): void {
    if (this.#expired) return;
    this.#expired = true;
    this.#notify();
  }

  async login(): Promise<void> {
    rememberRoute();
    await this.#kc.login({ redirectUri: pageUrl() });
  }

  async logout(): Promise<void> {
    await this.#kc.logout({ redirectUri: pageUrl() });
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #notify(): void {
    for (const l of [...this.#listeners]) l();
  }
}

// OAuth forbids a fragment in redirect_uri (the built-in issuer and Keycloak refuse it), but the
// portal routes by the hash. So the page URL without its hash goes to the issuer, the route waits
// in sessionStorage, and it is put back once the issuer has sent the browser home.
const ROUTE_KEY = 'cp-return-route';

function pageUrl(): string {
  return window.location.href.split('#')[0];
}

function rememberRoute(): void {
  try {
    if (window.location.hash) sessionStorage.setItem(ROUTE_KEY, window.location.hash);
    else sessionStorage.removeItem(ROUTE_KEY);
  } catch {
    // Storage may be disabled; the user then lands on the start page after signing in.
  }
}

function restoreRoute(): void {
  try {
    const route = sessionStorage.getItem(ROUTE_KEY);
    sessionStorage.removeItem(ROUTE_KEY);
    if (route && !window.location.hash) window.history.replaceState(window.history.state, '', route);
  } catch {
    // See rememberRoute.
  }
}

function isCallback(): boolean {
  const q = new URLSearchParams(window.location.search);
  return q.has('state') && (q.has('code') || q.has('error'));
}

const registry = new Map<string, Promise<AuthSession>>();

function key(cfg: AuthConfig): string {
  return `${cfg.url}|${cfg.realm}|${cfg.clientId}`;
}

/**
 * getAuth returns the page's one session for an issuer, realm and client. keycloak-js allows a
 * single init per instance and the redirect callback can be consumed only once, so however many
 * widgets are on the page, the first creates and initialises it and the others await that.
 */
export function getAuth(cfg: AuthConfig): Promise<AuthSession> {
  const k = key(cfg);
  let p = registry.get(k);
  if (!p) {
    p = (async () => {
      const kc = new Keycloak({ url: cfg.url, realm: cfg.realm, clientId: cfg.clientId });
      // Without a silent check page, check-sso leaves the page for the issuer (prompt=none).
      if (!isCallback() && !cfg.silentCheckSso) rememberRoute();
      try {
        await kc.init({
          onLoad: 'check-sso',
          pkceMethod: 'S256',
          checkLoginIframe: false,
          // The code comes back in the query, leaving the hash to the router.
          responseMode: 'query',
          redirectUri: pageUrl(),
          ...(cfg.silentCheckSso ? { silentCheckSsoRedirectUri: cfg.silentCheckSso } : {}),
        });
      } finally {
        restoreRoute();
      }
      return new KeycloakSession(kc);
    })();
    p.catch(() => registry.delete(k));
    registry.set(k, p);
  }
  return p;
}

/** resetAuthRegistry forgets every session (tests). */
export function resetAuthRegistry(): void {
  registry.clear();
}
