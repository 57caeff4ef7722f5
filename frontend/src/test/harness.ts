import { waitFor, within } from '@testing-library/react';
import { vi } from 'vitest';
import type { Me } from '../api/types';
import { defineAll } from '../widgets';

export const API = 'http://portal.test';

export interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Headers;
  body: any;
}

type Reply = Response | object | undefined;
export type Handler = Reply | ((call: Call, n: number) => Reply | Promise<Reply>);

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json', ...headers },
  });
}

export function problem(status: number, extra: Record<string, unknown> = {}): Response {
  return json(status, { type: 'urn:customer-portal:problem:x', title: 'Problem', status, ...extra });
}

/**
 * fakeApi replaces fetch with a router over "METHOD /path" keys and records every request, so
 * tests assert what the widget sent: method, path, query, headers and JSON body.
 */
export function fakeApi(routes: Record<string, Handler>) {
  const calls: Call[] = [];
  const counts = new Map<string, number>();
  const fetch = vi.fn(async (input: Request | string, init?: RequestInit) => {
    const req = typeof input === 'string' ? new Request(input, init) : input;
    const url = new URL(req.url);
    const text = req.method === 'GET' ? '' : await req.text();
    const call: Call = { method: req.method, path: url.pathname, query: url.searchParams, headers: req.headers, body: text ? JSON.parse(text) : undefined };
    calls.push(call);
    const key = `${req.method} ${url.pathname}`;
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    const h = routes[key];
    if (h === undefined) return problem(404, { title: 'Not Found', detail: `no route ${key}` });
    const r = typeof h === 'function' ? await h(call, n) : h;
    if (r instanceof Response) return r;
    if (r === undefined) return new Response(null, { status: 204 });
    return json(200, r);
  });
  vi.stubGlobal('fetch', fetch);
  return {
    calls,
    fetch,
    /** apiCalls are the calls under /api/v1 with the prefix removed, as "METHOD /path". */
    sent: (method: string, path: string) => calls.filter((c) => c.method === method && c.path === `/api/v1${path}`),
  };
}

const allPerms = {
  readAllCustomers: false,
  viewNotes: false,
  manageCustomers: false,
  managePartners: false,
  manageProjects: false,
  manageAssignments: false,
  manageUsers: false,
  manageCatalogue: false,
  manageSubscriptions: false,
  requestSubscriptions: false,
};

export const ADMIN: Me = {
  id: '00000000-0000-7000-8000-00000000000a',
  subject: 'admin-sub',
  username: 'ada',
  name: 'Ada Admin',
  roles: ['cp-admin'],
  permissions: {
    readAllCustomers: true,
    viewNotes: true,
    manageCustomers: true,
    managePartners: true,
    manageProjects: true,
    manageAssignments: true,
    manageUsers: true,
    manageCatalogue: true,
    manageSubscriptions: true,
    requestSubscriptions: false,
  },
};

export const SUPPORT: Me = {
  id: '00000000-0000-7000-8000-00000000000b',
  subject: 'support-sub',
  username: 'sam',
  name: 'Sam Support',
  roles: ['cp-support'],
  permissions: { ...allPerms, readAllCustomers: true, viewNotes: true },
};

export const CUSTOMER: Me = {
  id: '00000000-0000-7000-8000-00000000000c',
  subject: 'cust-sub',
  username: 'cora',
  name: 'Cora Customer',
  roles: ['cp-customer'],
  permissions: { ...allPerms, requestSubscriptions: true },
};

let defined = false;

/** mount puts a widget in the page with test configuration and returns queries scoped to its shadow root. */
export async function mount(tag: string, attrs: Record<string, string> = {}) {
  if (!defined) {
    defineAll();
    defined = true;
  }
  const el = document.createElement(tag);
  const all = { 'api-url': API, 'auth-url': 'http://kc.test', realm: 'portal', 'client-id': 'customer-portal', ...attrs };
  for (const [k, v] of Object.entries(all)) el.setAttribute(k, v);
  document.body.append(el);
  await waitFor(() => expect(el.shadowRoot?.querySelector('.cp-root')).toBeTruthy());
  const root = el.shadowRoot!.querySelector('.cp-root') as HTMLElement;
  return { el, root, screen: within(root) };
}

export const ids = {
  customer: '00000000-0000-7000-8000-000000000c01',
  project: '00000000-0000-7000-8000-000000000a01',
  type: '00000000-0000-7000-8000-000000000b01',
};
