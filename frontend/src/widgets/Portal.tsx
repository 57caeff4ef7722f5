import { useEffect, useRef, useState, type ReactNode } from 'react';
import { isStaff, usePortal } from '../core/context';
import { Link, NotFoundScreen } from '../core/ui';
import { LOCALES, dictionaries, useLocale, useStrings, type Locale } from '../i18n';
import { AdminCatalogue } from './AdminCatalogue';
import { AdminTicketing } from './AdminTicketing';
import { Audit } from './Audit';
import { CustomerView } from './Customer';
import { Customers } from './Customers';
import { OpenTicket } from './OpenTicket';
import { Partners } from './Partners';
import { ProjectView } from './Project';
import { TicketView } from './Ticket';
import { Tickets } from './Tickets';
import { Users } from './Users';

export interface Route {
  name:
    | 'customers'
    | 'customer'
    | 'project'
    | 'partners'
    | 'partner'
    | 'tickets'
    | 'ticket'
    | 'openTicket'
    | 'users'
    | 'catalogue'
    | 'ticketing'
    | 'audit'
    | 'notFound';
  id?: string;
}

/** parseRoute maps the URL hash to a screen; unknown paths are a "not found" screen, not an error. */
export function parseRoute(hash: string): Route {
  let parts: string[];
  try {
    parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    // A malformed escape ("#/tickets/100%") would throw during render and blank the portal.
    return { name: 'notFound' };
  }
  const [a, b, c, d] = parts;
  if (parts.length === 0) return { name: 'tickets' };
  if (a === 'customers' && parts.length === 1) return { name: 'customers' };
  if (a === 'customers' && parts.length === 2) return { name: 'customer', id: b };
  if (a === 'projects' && parts.length === 2) return { name: 'project', id: b };
  if (a === 'partners' && parts.length === 1) return { name: 'partners' };
  if (a === 'partners' && parts.length === 2) return { name: 'partner', id: b };
  if (a === 'projects' && c === 'tickets' && d === 'new' && parts.length === 4) return { name: 'openTicket', id: b };
  if (a === 'tickets' && parts.length === 1) return { name: 'tickets' };
  if (a === 'tickets' && b === 'new' && parts.length === 2) return { name: 'openTicket' };
  if (a === 'tickets' && parts.length === 2) return { name: 'ticket', id: b };
  if (a === 'admin' && parts.length === 2 && b === 'users') return { name: 'users' };
  if (a === 'admin' && parts.length === 2 && b === 'catalogue') return { name: 'catalogue' };
  if (a === 'admin' && parts.length === 2 && b === 'ticketing') return { name: 'ticketing' };
  if (a === 'admin' && parts.length === 2 && b === 'audit') return { name: 'audit' };
  return { name: 'notFound' };
}

function useHash(): string {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const on = () => setHash(window.location.hash);
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return hash;
}

/** Portal is the app shell: who is signed in, navigation by role, and the screen for the hash. */
export function Portal() {
  const strings = useStrings();
  const { me, auth } = usePortal();
  const hash = useHash();
  const route = parseRoute(hash);
  const rootRef = useRef<HTMLDivElement>(null);
  const mainRef = useRef<HTMLElement>(null);
  const first = useRef(true);

  // Widgets ask for navigation by event; the shell owns the URL, so it answers them.
  useEffect(() => {
    // Widgets dispatch from the shell's element, which is this div's parent: listen on the
    // shadow root (or document) that holds both, where their bubbling events arrive.
    const el = rootRef.current?.getRootNode();
    if (!el) return;
    const onNavigate = (e: Event) => {
      const path = (e as CustomEvent<{ path?: string }>).detail?.path;
      if (!path) return;
      e.preventDefault();
      e.stopPropagation();
      if (window.location.hash !== path) window.location.hash = path;
    };
    const onCreated = (e: Event) => {
      const key = (e as CustomEvent<{ key?: string }>).detail?.key;
      if (key) window.location.hash = `#/tickets/${key}`;
    };
    el.addEventListener('cp-navigate', onNavigate);
    el.addEventListener('cp-ticket-created', onCreated);
    return () => {
      el.removeEventListener('cp-navigate', onNavigate);
      el.removeEventListener('cp-ticket-created', onCreated);
    };
  }, []);

  // After a route change, move focus to the new screen's heading so screen readers announce it.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const h = mainRef.current?.querySelector<HTMLElement>('h2');
    if (h) {
      h.tabIndex = -1;
      h.focus();
    }
  }, [hash]);

  const p = me?.permissions;
  const admin = Boolean(me?.roles.includes('cp-admin'));
  const staff = isStaff(me);
  const role = me?.roles[0] ? strings.roles.name(me.roles[0]) : '';
  const nav: { to: string; label: string; match: Route['name'][] }[] = me
    ? [
        { to: '#/customers', label: strings.nav.customers, match: ['customers', 'customer', 'project'] },
        ...(staff ? [{ to: '#/partners', label: strings.nav.partners, match: ['partners', 'partner'] as Route['name'][] }] : []),
        { to: '#/tickets', label: strings.nav.tickets, match: ['tickets', 'ticket', 'openTicket'] },
        ...(p?.manageUsers ? [{ to: '#/admin/users', label: strings.nav.users, match: ['users'] as Route['name'][] }] : []),
        ...(p?.manageCatalogue ? [{ to: '#/admin/catalogue', label: strings.nav.catalogue, match: ['catalogue'] as Route['name'][] }] : []),
        ...(admin ? [{ to: '#/admin/ticketing', label: strings.nav.ticketing, match: ['ticketing'] as Route['name'][] }] : []),
        ...(staff ? [{ to: '#/admin/audit', label: strings.nav.audit, match: ['audit'] as Route['name'][] }] : []),
      ]
    : [];

  let screen: ReactNode;
  if (!me) {
    screen = (
      <section aria-labelledby="cp-welcome-h">
        <h2 id="cp-welcome-h">{strings.appTitle}</h2>
        <p>{auth.authenticated ? strings.common.loading : strings.auth.signInPrompt}</p>
      </section>
    );
  } else {
    switch (route.name) {
      case 'customers':
        screen = <Customers />;
        break;
      case 'customer':
        screen = <CustomerView key={route.id} customerId={route.id} />;
        break;
      case 'project':
        screen = <ProjectView key={route.id} projectId={route.id} />;
        break;
      case 'partners':
        screen = <Partners />;
        break;
      case 'partner':
        screen = <Partners key={route.id} partnerId={route.id} />;
        break;
      case 'tickets':
        screen = (
          <Tickets
            toolbar={
              <Link className="cp-button cp-primary" to="#/tickets/new">
                {strings.openTicket.submit}
              </Link>
            }
          />
        );
        break;
      case 'ticket':
        screen = <TicketView key={route.id} ticketId={route.id} />;
        break;
      case 'openTicket':
        screen = <OpenTicket key={route.id ?? 'any'} projectId={route.id} />;
        break;
      case 'users':
        screen = p?.manageUsers ? <Users /> : <NotFound />;
        break;
      case 'catalogue':
        screen = p?.manageCatalogue ? <AdminCatalogue /> : <NotFound />;
        break;
      case 'ticketing':
        screen = admin ? <AdminTicketing /> : <NotFound />;
        break;
      case 'audit':
        screen = staff ? <Audit /> : <NotFound />;
        break;
      default:
        screen = <NotFound />;
    }
  }

  return (
    <div ref={rootRef} className="cp-portal">
      <header className="cp-header">
        <h1 className="cp-brand">{strings.appTitle}</h1>
        {nav.length > 0 && (
          <nav className="cp-nav" aria-label={strings.nav.label}>
            <ul>
              {nav.map((n) => (
                <li key={n.to}>
                  <Link to={n.to} current={n.match.includes(route.name)}>
                    {n.label}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
        )}
        <div className="cp-user">
          <LanguageSwitch />
          {me ? (
            <>
              <span>{strings.auth.signedInAs(me.name || me.username, role)}</span>
              <button type="button" className="cp-button" onClick={() => void auth.logout()}>
                {strings.auth.signOut}
              </button>
            </>
          ) : (
            <button type="button" className="cp-button cp-primary" onClick={() => void auth.login()}>
              {strings.auth.signIn}
            </button>
          )}
        </div>
      </header>
      <main ref={mainRef} className="cp-main">
        {screen}
      </main>
    </div>
  );
}

/** LanguageSwitch sets the portal's `lang` attribute; the choice lasts until the page is reloaded. */
function LanguageSwitch() {
  const strings = useStrings();
  const { locale, setLocale } = useLocale();
  if (!setLocale) return null;
  return (
    <select className="cp-lang" aria-label={strings.auth.language} value={locale} onChange={(e) => setLocale(e.target.value as Locale)}>
      {LOCALES.map((l) => (
        <option key={l} value={l} lang={l}>
          {dictionaries[l].languageName}
        </option>
      ))}
    </select>
  );
}

function NotFound() {
  const strings = useStrings();
  return <NotFoundScreen heading={strings.nav.notFound} text={strings.nav.notFoundText} back={{ to: '#/tickets', label: strings.nav.home }} alert={false} />;
}
