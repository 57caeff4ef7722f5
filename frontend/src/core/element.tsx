import type { ComponentType } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { CONFIG_ATTRIBUTES, type ConfigAttributes } from '../config';
import { Shell } from './context';
import { LocaleProvider, resolveLocale, type Locale } from '../i18n';
import css from '../styles.css?inline';

function camel(attr: string): string {
  return attr.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function configOf(el: HTMLElement): ConfigAttributes {
  const get = (a: string) => el.getAttribute(a) || undefined;
  return { apiUrl: get('api-url'), authUrl: get('auth-url'), realm: get('realm'), clientId: get('client-id'), silentCheckSso: get('silent-check-sso') };
}

// Widgets re-render when a `lang` attribute changes anywhere above them (e.g. <html lang>).
const widgets = new Set<{ rerender(): void }>();
let langObserver: MutationObserver | undefined;
function watchLang(w: { rerender(): void }) {
  widgets.add(w);
  if (!langObserver && typeof MutationObserver !== 'undefined') {
    langObserver = new MutationObserver(() => widgets.forEach((x) => x.rerender()));
    langObserver.observe(document.documentElement, { attributes: true, attributeFilter: ['lang'], subtree: true });
  }
}

interface WidgetOptions {
  /** The widget's own attributes (kebab-case); they reach the component as camelCase props. */
  attributes?: readonly string[];
  /** Render signed out too (the component handles it). */
  anonymous?: boolean;
}

/**
 * defineWidget registers a custom element with an open shadow root holding the stylesheet and a
 * React root. Attributes are observed, so changing one re-renders with new props.
 */
export function defineWidget<P extends object>(tag: string, Component: ComponentType<P>, opts: WidgetOptions = {}): void {
  if (customElements.get(tag)) return;
  const own = opts.attributes ?? [];

  class Widget extends HTMLElement {
    static observedAttributes = [...own, ...CONFIG_ATTRIBUTES, 'lang'];
    #root?: Root;

    connectedCallback() {
      if (!this.#root) {
        const shadow = this.shadowRoot ?? this.attachShadow({ mode: 'open' });
        const style = document.createElement('style');
        style.textContent = css;
        const mount = document.createElement('div');
        mount.className = 'cp-root';
        shadow.replaceChildren(style, mount);
        this.#root = createRoot(mount);
      }
      watchLang(this);
      this.#render();
    }

    rerender() {
      if (this.#root) this.#render();
    }

    attributeChangedCallback() {
      if (this.#root) this.#render();
    }

    disconnectedCallback() {
      // A move within the page disconnects and reconnects at once; only unmount if it stays out.
      queueMicrotask(() => {
        if (!this.isConnected && this.#root) {
          widgets.delete(this);
          this.#root.unmount();
          this.#root = undefined;
        }
      });
    }

    #setLocale = (l: Locale) => this.setAttribute('lang', l);

    #render() {
      const props: Record<string, string | undefined> = {};
      for (const a of own) props[camel(a)] = this.getAttribute(a) ?? undefined;
      this.#root!.render(
        <LocaleProvider locale={resolveLocale(this)} setLocale={this.#setLocale}>
          <Shell attrs={configOf(this)} requireSignIn={!opts.anonymous}>
            <Component {...(props as P)} />
          </Shell>
        </LocaleProvider>,
      );
    }
  }
  customElements.define(tag, Widget);
}
