// Locale lookup: which dictionary a widget uses, and the hooks components read it with.
import { createContext, createElement, useContext, useMemo, type ReactNode } from 'react';
import { en, type Strings } from './en';
import { de } from './de';

export type { Strings } from './en';

/** Every shipped dictionary by its BCP 47 primary language subtag; English is the fallback. */
export const dictionaries = { en, de } satisfies Record<string, Strings>;
export type Locale = keyof typeof dictionaries;
export const DEFAULT_LOCALE: Locale = 'en';
export const LOCALES = Object.keys(dictionaries) as Locale[];

/** matchLocale maps a language tag ("de", "de-AT", "de_CH") to a shipped locale, if any. */
export function matchLocale(tag: string | null | undefined): Locale | undefined {
  const base = tag?.trim().toLowerCase().split(/[-_]/)[0];
  return base && Object.hasOwn(dictionaries, base) ? (base as Locale) : undefined;
}

/** nearestLang is the closest non-empty lang attribute on el or its ancestors (through shadow roots), up to <html>. */
export function nearestLang(el: Element | null | undefined): string | undefined {
  let n: Node | null | undefined = el;
  while (n) {
    if (n instanceof Element) {
      const lang = n.getAttribute('lang');
      if (lang && lang.trim()) return lang;
    }
    n = n.parentNode ?? (n instanceof ShadowRoot ? n.host : null);
  }
  const root = typeof document !== 'undefined' ? document.documentElement.lang : '';
  return root || undefined;
}

/**
 * resolveLocale picks a widget's locale: its own `lang` attribute, else the nearest `lang` on an
 * ancestor (finally `<html lang>`); if that names no shipped locale (or there is none), the
 * browser's `navigator.languages` in order; else English.
 */
export function resolveLocale(el?: Element | null, languages: readonly string[] = typeof navigator !== 'undefined' ? navigator.languages ?? [navigator.language] : []): Locale {
  const declared = matchLocale(nearestLang(el));
  if (declared) return declared;
  for (const l of languages) {
    const m = matchLocale(l);
    if (m) return m;
  }
  return DEFAULT_LOCALE;
}

interface LocaleValue {
  locale: Locale;
  /** setLocale changes the widget's own `lang` attribute (used by <cp-portal>'s language switch). */
  setLocale?: (l: Locale) => void;
}

const LocaleContext = createContext<LocaleValue>({ locale: DEFAULT_LOCALE });

export function LocaleProvider({ locale, setLocale, children }: LocaleValue & { children: ReactNode }) {
  const value = useMemo(() => ({ locale, setLocale }), [locale, setLocale]);
  return createElement(LocaleContext.Provider, { value }, children);
}

export function useLocale(): LocaleValue {
  return useContext(LocaleContext);
}

/** useStrings is the dictionary of the widget's locale. */
export function useStrings(): Strings {
  return dictionaries[useContext(LocaleContext).locale];
}

/** formatDate words an ISO date ("2026-01-31") or instant for a locale; missing values are "—". */
export function formatDate(iso: string | undefined | null, locale: Locale = DEFAULT_LOCALE): string {
  const s = dictionaries[locale];
  if (!iso) return s.common.none;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return iso.length <= 10 ? s.format.date(d, iso) : s.format.dateTime(d, iso);
}

/** useFormat gives the date and number formatters of the widget's locale. */
export function useFormat() {
  const { locale } = useLocale();
  return useMemo(
    () => ({
      formatDate: (iso?: string | null) => formatDate(iso, locale),
      formatNumber: (n: number) => dictionaries[locale].format.number(n),
    }),
    [locale],
  );
}

/** useFormatDate is useFormat().formatDate, for widgets that only show dates. */
export function useFormatDate() {
  return useFormat().formatDate;
}

export { intlFormat } from './format';
