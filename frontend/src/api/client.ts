import createClient from 'openapi-fetch';
import type { paths } from './schema';
import type { AuthSession } from '../auth';
import { networkError, toApiError } from './problem';

export type Api = ReturnType<typeof createClient<paths>>;

/**
 * createApi builds the typed client. Every request carries a token refreshed shortly before it
 * expires; a 401 means the server disagrees (revoked, clock skew), so the token is refreshed
 * once and the request repeated once. A second 401 ends the session in the UI.
 */
export function createApi(apiUrl: string, auth: AuthSession): Api {
  const authFetch = async (input: Request): Promise<Response> => {
    const spare = input.clone();
    const send = async (req: Request): Promise<Response> => {
      const token = await auth.token();
      if (token) req.headers.set('Authorization', `Bearer ${token}`);
      return globalThis.fetch(req);
    };
    let res = await send(input);
    if (res.status === 401 && auth.authenticated) {
      if (await auth.refresh()) {
        res = await send(spare);
      }
      if (res.status === 401) auth.expire();
    }
    return res;
  };
  return createClient<paths>({ baseUrl: `${apiUrl.replace(/\/+$/, '')}/api/v1`, fetch: authFetch });
}

interface Result<D> {
  data?: D;
  error?: unknown;
  response: Response;
}

/** settle awaits a request and throws an ApiError built from the problem+json unless it succeeded. */
async function settle<D>(p: Promise<Result<D>>): Promise<Result<D>> {
  let r: Result<D>;
  try {
    r = await p;
  } catch (e) {
    if (e instanceof TypeError) throw networkError();
    throw e;
  }
  if (!r.response.ok) throw toApiError(r.response.status, r.error);
  return r;
}

/** call resolves to the response body or throws an ApiError built from the problem+json. */
export async function call<D>(p: Promise<Result<D>>): Promise<D> {
  return (await settle(p)).data as D;
}

/** newIdempotencyKey names one intended ticket, so a repeated submit cannot create a second. */
export function newIdempotencyKey(): string {
  return globalThis.crypto?.randomUUID?.() ?? `k-${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

/** callTagged is call for reads whose ETag a later If-Match update sends back. */
export async function callTagged<D>(p: Promise<Result<D>>): Promise<{ data: D; etag?: string }> {
  const r = await settle(p);
  return { data: r.data as D, etag: r.response.headers.get('ETag') ?? undefined };
}

/**
 * download saves a file the API answers (a CSV export) under the name its Content-Disposition
 * gives; fetched with the session's token, which a plain link could not send.
 */
export async function download(p: Promise<Result<Blob>>, fallbackName: string): Promise<void> {
  const r = await settle(p);
  const name = /filename="([^"]+)"/.exec(r.response.headers.get('Content-Disposition') ?? '')?.[1] ?? fallbackName;
  const url = URL.createObjectURL(r.data as Blob);
  try {
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    a.rel = 'noopener';
    document.body.append(a);
    a.click();
    a.remove();
  } finally {
    // After the click has handed the blob to the browser's download.
    setTimeout(() => URL.revokeObjectURL(url), 0);
  }
}
