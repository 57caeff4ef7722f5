import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { getAuth, type AuthSession } from '../auth';
import { resolveConfig, type ConfigAttributes, type PortalConfig } from '../config';
import { call, createApi, type Api } from '../api/client';
import type { Me } from '../api/types';
import { useLocale, useStrings } from '../i18n';
import { ErrorView, Loading } from './ui';

export interface Portal {
  config: PortalConfig;
  auth: AuthSession;
  api: Api;
  /** The caller; null while signed out. */
  me: Me | null;
  /** cp-admin or cp-support: sees internal comments and may set any ticket status. */
  staff: boolean;
  /** emit dispatches a bubbling, composed event from the widget, so it leaves the shadow root. */
  emit: (name: string, detail?: unknown, cancelable?: boolean) => boolean;
  /** navigate asks the page to show a route (cp-navigate); a portal shell answers it. */
  navigate: (path: string) => void;
}

const PortalContext = createContext<Portal | null>(null);

export function usePortal(): Portal {
  const p = useContext(PortalContext);
  if (!p) throw new Error('usePortal outside a widget shell');
  return p;
}

/** useSignedIn is usePortal for widgets that render only for a signed-in caller. */
export function useSignedIn(): Portal & { me: Me } {
  const p = usePortal();
  if (!p.me) throw new Error('useSignedIn while signed out');
  return p as Portal & { me: Me };
}

export function isStaff(me: Me | null): boolean {
  return Boolean(me?.roles.some((r) => r === 'cp-admin' || r === 'cp-support'));
}

type Phase =
  | { kind: 'loading' }
  | { kind: 'error'; error: unknown }
  | { kind: 'ready'; config: PortalConfig; auth: AuthSession; api: Api; me: Me | null };

interface ShellProps {
  attrs: ConfigAttributes;
  /** When false, children render signed out too (with me = null), e.g. the portal's header. */
  requireSignIn?: boolean;
  children: ReactNode;
}

/** Shell resolves configuration, the shared session and the caller, then provides them. */
export function Shell({ attrs, requireSignIn = true, children }: ShellProps) {
  const strings = useStrings();
  const { locale } = useLocale();
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' });
  const [attempt, setAttempt] = useState(0);
  const [authVersion, setAuthVersion] = useState(0);
  const rootRef = useRef<HTMLDivElement>(null);
  const { apiUrl, authUrl, realm, clientId, silentCheckSso } = attrs;

  useEffect(() => {
    let live = true;
    let unsubscribe = () => {};
    setPhase({ kind: 'loading' });
    (async () => {
      const config = await resolveConfig({ apiUrl, authUrl, realm, clientId, silentCheckSso });
      const auth = await getAuth(config.auth);
      if (!live) return;
      unsubscribe = auth.subscribe(() => setAuthVersion((v) => v + 1));
      const api = createApi(config.apiUrl, auth);
      let me: Me | null = null;
      if (auth.authenticated) {
        try {
          me = await call(api.GET('/me'));
        } catch (e) {
          if (!auth.authenticated) me = null;
          else throw e;
        }
      }
      if (live) setPhase({ kind: 'ready', config, auth, api, me });
    })().catch((error) => {
      if (live) setPhase({ kind: 'error', error });
    });
    return () => {
      live = false;
      unsubscribe();
    };
  }, [apiUrl, authUrl, realm, clientId, silentCheckSso, attempt, authVersion]);

  const emit = useCallback((name: string, detail?: unknown, cancelable = false) => {
    const target = rootRef.current;
    if (!target) return true;
    return target.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true, cancelable }));
  }, []);
  const navigate = useCallback((path: string) => {
    emit('cp-navigate', { path }, true);
  }, [emit]);

  const value = useMemo<Portal | null>(() => {
    if (phase.kind !== 'ready') return null;
    const me = phase.auth.authenticated ? phase.me : null;
    return { config: phase.config, auth: phase.auth, api: phase.api, me, staff: isStaff(me), emit, navigate };
  }, [phase, emit, navigate, authVersion]);

  let body: ReactNode;
  if (phase.kind === 'loading') {
    body = <Loading />;
  } else if (phase.kind === 'error') {
    body = <ErrorView error={phase.error} fallback={strings.errors.config} onRetry={() => setAttempt((a) => a + 1)} />;
  } else if (!value?.me && requireSignIn) {
    body = <SignInPrompt auth={phase.auth} />;
  } else {
    body = <PortalContext.Provider value={value}>{children}</PortalContext.Provider>;
  }
  return (
    <div ref={rootRef} className="cp-widget" lang={locale}>
      {body}
    </div>
  );
}

function SignInPrompt({ auth }: { auth: AuthSession }) {
  const strings = useStrings();
  return (
    <div className="cp-signin">
      <p>{strings.auth.signInPrompt}</p>
      <button type="button" className="cp-button cp-primary" onClick={() => void auth.login()}>
        {strings.auth.signIn}
      </button>
    </div>
  );
}
