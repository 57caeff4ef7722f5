import { fireEvent, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { de } from '../i18n/de';
import { en } from '../i18n/en';
import { formatDate, matchLocale, resolveLocale } from '../i18n';
import { ADMIN, CUSTOMER, SUPPORT, fakeApi, mount, problem } from './harness';

describe('locale resolution', () => {
  afterEach(() => document.documentElement.removeAttribute('lang'));

  it('takes the widget’s own lang first, then the nearest ancestor, then <html lang>', () => {
    document.documentElement.lang = 'en';
    const outer = document.createElement('div');
    outer.lang = 'de-AT';
    const widget = document.createElement('cp-tickets');
    outer.append(widget);
    document.body.append(outer);
    expect(resolveLocale(widget, ['en'])).toBe('de');
    widget.setAttribute('lang', 'en-GB');
    expect(resolveLocale(widget, ['de'])).toBe('en');
    widget.removeAttribute('lang');
    outer.removeAttribute('lang');
    expect(resolveLocale(widget, ['de'])).toBe('en');
    document.documentElement.lang = 'de';
    expect(resolveLocale(widget, ['en'])).toBe('de');
  });

  it('crosses shadow roots to the host’s lang', () => {
    const host = document.createElement('div');
    host.lang = 'de';
    const inner = document.createElement('span');
    host.attachShadow({ mode: 'open' }).append(inner);
    document.body.append(host);
    expect(resolveLocale(inner, [])).toBe('de');
  });

  it('falls back to navigator.languages in order, then English', () => {
    const el = document.createElement('div');
    document.body.append(el);
    expect(resolveLocale(el, ['fr-FR', 'de-CH', 'en'])).toBe('de');
    expect(resolveLocale(el, ['fr', 'it'])).toBe('en');
    expect(resolveLocale(el, [])).toBe('en');
    // An unsupported declared language also falls through to the browser's languages.
    el.lang = 'fr';
    expect(resolveLocale(el, ['de'])).toBe('de');
  });

  it('matches language tags by their primary subtag', () => {
    expect(matchLocale('DE_de')).toBe('de');
    expect(matchLocale('en-US')).toBe('en');
    expect(matchLocale('pt')).toBeUndefined();
    expect(matchLocale('')).toBeUndefined();
  });

  it('formats dates per locale (English unchanged, German with Intl)', () => {
    expect(formatDate('2026-02-03T10:20:00Z', 'en')).toBe('2026-02-03 10:20 UTC');
    expect(formatDate('2026-01-31', 'en')).toBe('2026-01-31');
    expect(formatDate('2026-02-03T10:20:00Z', 'de')).toBe('03.02.2026, 10:20 UTC');
    expect(formatDate('2026-01-31', 'de')).toBe('31.01.2026');
    expect(formatDate(undefined, 'de')).toBe('—');
    expect(de.format.number(1234.5)).toBe('1.234,5');
  });

  it('German has every key of the English reference', () => {
    const keys = (o: object, p = ''): string[] =>
      Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' && !(k === 'visibility' || k === 'providers') ? keys(v, `${p}${k}.`) : [`${p}${k}`]));
    expect(keys(de).sort()).toEqual(keys(en).sort());
  });
});

describe('widgets in German', () => {
  it('<cp-audit lang="de"> shows German labels and German dates', async () => {
    fakeApi({
      'GET /api/v1/me': SUPPORT,
      'GET /api/v1/audit-events': {
        items: [{ id: '00000000-0000-7000-8000-0000000e0001', occurredAt: '2026-02-03T10:20:00Z', actorSubject: 's', actorUsername: 'ada', action: 'customer.updated', resourceType: 'customer', resourceId: 'x' }],
      },
    });
    const { screen } = await mount('cp-audit', { lang: 'de' });
    const table = await screen.findByRole('table', { name: 'Audit-Ereignisse' });
    expect(within(table).getByText('03.02.2026, 10:20 UTC')).toBeTruthy();
    expect(screen.getByRole('heading', { name: 'Audit-Log' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Filter anwenden' })).toBeTruthy();
  });

  it('<cp-customers> takes German from an ancestor and keeps the server’s detail as it is', async () => {
    fakeApi({ 'GET /api/v1/me': CUSTOMER, 'GET /api/v1/customers': { items: [] } });
    document.body.lang = 'de';
    try {
      const { screen } = await mount('cp-customers');
      expect(await screen.findByText('Keine Kunden gefunden.')).toBeTruthy();
      expect(screen.getByRole('heading', { name: 'Kunden' })).toBeTruthy();
      expect(screen.getByRole('button', { name: 'Suchen' })).toBeTruthy();
    } finally {
      document.body.removeAttribute('lang');
    }
  });

  it('shows German error sentences but the server’s English detail unchanged', async () => {
    fakeApi({ 'GET /api/v1/me': SUPPORT, 'GET /api/v1/audit-events': problem(503, { detail: 'Audit store is unavailable' }) });
    const { screen } = await mount('cp-audit', { lang: 'de' });
    const alert = await screen.findByRole('alert');
    expect(within(alert).getByText('Audit store is unavailable')).toBeTruthy();
    expect(within(alert).getByRole('button', { name: 'Erneut versuchen' })).toBeTruthy();
  });

  it('<cp-portal>’s language switch sets its lang attribute and re-renders in German', async () => {
    fakeApi({ 'GET /api/v1/me': ADMIN, 'GET /api/v1/customers': { items: [] }, 'GET /api/v1/tickets': { items: [] }, 'GET /api/v1/ticket-types': { items: [] } });
    const { screen } = await mount('cp-portal');
    await screen.findByRole('button', { name: 'Sign out' });
    fireEvent.change(screen.getByRole('combobox', { name: 'Language' }), { target: { value: 'de' } });
    expect(await screen.findByRole('button', { name: 'Abmelden' })).toBeTruthy();
    expect(document.querySelector('cp-portal')!.getAttribute('lang')).toBe('de');
    expect(screen.getByText('Angemeldet als Ada Admin (Administrator)')).toBeTruthy();
    const nav = screen.getByRole('navigation', { name: 'Hauptnavigation' });
    expect(within(nav).getByRole('link', { name: 'Kunden' })).toBeTruthy();
  });
});
