import type { Problem } from './types';
import { en, type Strings } from '../i18n/en';

/** ApiError carries the server's problem+json so widgets can show its safe message and field errors. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;

  constructor(status: number, problem: Problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
  }
}

function isProblem(v: unknown): v is Problem {
  return typeof v === 'object' && v !== null && ('title' in v || 'detail' in v || 'status' in v);
}

/** toApiError turns whatever the response carried (problem+json, text, nothing) into an ApiError. */
export function toApiError(status: number, body: unknown): ApiError {
  if (isProblem(body)) {
    return new ApiError(status, { ...body, type: body.type ?? 'about:blank', title: body.title ?? '', status: body.status ?? status });
  }
  return new ApiError(status, { type: 'about:blank', title: typeof body === 'string' && body ? body.slice(0, 200) : `HTTP ${status}`, status });
}

/** networkError is what a widget shows when the API cannot be reached at all. */
export function networkError(): ApiError {
  return new ApiError(0, { type: 'urn:customer-portal:problem:network', title: en.errors.network, status: 0 });
}

// The validator may name fields as JSON pointers ("/customerNumber"), with a "body." prefix or as
// dotted paths; widgets name them by their JSON property, so all spellings meet here.
export function normalizeField(field: string): string {
  return field
    .replace(/^(request\s*)?body[./]/i, '')
    .replace(/^\//, '')
    .replace(/\//g, '.')
    .trim();
}

/** splitFieldErrors separates errors that belong next to a known field from the rest. */
export function splitFieldErrors(err: unknown, known: readonly string[]): { byField: Record<string, string>; rest: string[] } {
  const byField: Record<string, string> = {};
  const rest: string[] = [];
  if (!(err instanceof ApiError)) return { byField, rest };
  for (const e of err.problem.errors ?? []) {
    const f = normalizeField(e.field);
    const match = known.includes(f) ? f : known.find((k) => f.startsWith(`${k}.`) || f.startsWith(`${k}[`));
    if (match) {
      byField[match] = byField[match] ? `${byField[match]}; ${e.message}` : e.message;
    } else {
      rest.push(f ? `${f}: ${e.message}` : e.message);
    }
  }
  return { byField, rest };
}

/**
 * describe gives the sentence a person should read for an error, in the dictionary's language.
 * The server's problem+json detail is shown as it is (the server speaks English).
 */
export function describe(err: unknown, strings: Strings = en): string {
  if (err instanceof ApiError) {
    const p = err.problem;
    switch (err.status) {
      case 0:
        return strings.errors.network;
      case 401:
        return strings.errors.unauthenticated;
      case 403:
        return p.detail || strings.errors.forbidden;
      case 404:
        return strings.errors.notFound;
      case 412:
        return strings.errors.preconditionFailed;
      default:
        if (err.status >= 500 && err.status !== 503) return p.detail || strings.errors.internal;
        return p.detail || p.title || strings.errors.generic;
    }
  }
  if (err instanceof Error && err.message) return err.message;
  return strings.errors.generic;
}
