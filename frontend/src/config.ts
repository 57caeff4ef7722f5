/** The attributes every widget understands; absent ones fall back to the portal's own answer. */
export interface ConfigAttributes {
  apiUrl?: string;
  authUrl?: string;
  realm?: string;
  clientId?: string;
  silentCheckSso?: string;
}

export interface AuthConfig {
  url: string;
  realm: string;
  clientId: string;
  /** An URL on the embedding page's origin serving silent-check-sso.html; absent = redirect-based check. */
  silentCheckSso?: string;
}

export interface PortalConfig {
  apiUrl: string;
  auth: AuthConfig;
}

export const CONFIG_ATTRIBUTES = ['api-url', 'auth-url', 'realm', 'client-id', 'silent-check-sso'] as const;

interface ServerConfig {
  apiUrl?: string;
  auth?: { url?: string; realm?: string; clientId?: string };
}

const serverConfigs = new Map<string, Promise<ServerConfig>>();

function trimSlash(u: string): string {
  return u.replace(/\/+$/, '');
}

export function pageOrigin(): string {
  return window.location.origin;
}

// Several widgets on one page ask at once; one request answers them all.
function fetchServerConfig(apiUrl: string): Promise<ServerConfig> {
  let p = serverConfigs.get(apiUrl);
  if (!p) {
    p = (async () => {
      const res = await globalThis.fetch(`${apiUrl}/portal-config.json`, { headers: { Accept: 'application/json' } });
      if (!res.ok) throw new Error(`portal-config.json: HTTP ${res.status}`);
      return (await res.json()) as ServerConfig;
    })();
    p.catch(() => serverConfigs.delete(apiUrl));
    serverConfigs.set(apiUrl, p);
  }
  return p;
}

/**
 * resolveConfig decides where the API and the issuer are. The API URL is the attribute or the
 * page's origin, never the server's self-reported apiUrl: the browser may reach the server
 * through a proxy under another name, and the URL it just fetched from demonstrably works.
 */
export async function resolveConfig(attrs: ConfigAttributes): Promise<PortalConfig> {
  const apiUrl = trimSlash(attrs.apiUrl || pageOrigin());
  let url = attrs.authUrl;
  let realm = attrs.realm;
  let clientId = attrs.clientId;
  if (!url) {
    const server = await fetchServerConfig(apiUrl);
    url = server.auth?.url || apiUrl;
    realm = realm || server.auth?.realm;
    clientId = clientId || server.auth?.clientId;
  }
  return {
    apiUrl,
    auth: {
      url: trimSlash(url),
      realm: realm || 'portal',
      clientId: clientId || 'customer-portal',
      silentCheckSso: attrs.silentCheckSso || undefined,
    },
  };
}

/** resetConfigCache forgets fetched server configurations (tests). */
export function resetConfigCache(): void {
  serverConfigs.clear();
}
