// Small formatting and DOM helpers shared by the pages.

type AttrValue = string | number | boolean | null | undefined | ((ev: Event) => void);
export type Child = Node | string | number | null | undefined | false | Child[];

export function h(tag: string, attrs: Record<string, AttrValue> = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of (children as unknown[]).flat(Infinity) as Array<Node | string | number | null | undefined | false>) {
    if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

type Maybe = number | null | undefined;
export const pct = (r: Maybe): string => (r === null || r === undefined ? '–' : `${(r * 100).toFixed(r > 0 && r < 0.001 ? 3 : 1)}%`);
export const rps = (v: Maybe): string => (v === null || v === undefined ? '–' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
export const ms = (v: Maybe): string => (v === null || v === undefined ? '–' : v >= 1000 ? `${(v / 1000).toFixed(2)}s` : `${v >= 10 ? v.toFixed(0) : v.toFixed(1)}ms`);
export const time = (t: number): string => new Date(t).toLocaleTimeString([], { hour12: false });
export const dateTime = (t: number): string => new Date(t).toLocaleString([], { hour12: false });

export function ago(t: number): string {
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}

export const HEALTH_COLOURS: Record<string, string> = { Healthy: '#2f9e44', Degraded: '#f08c00', Failure: '#e03131', NA: '#adb5bd' };

export function healthBadge(status: string | undefined): HTMLElement {
  return h('span', { class: `badge health-${(status ?? 'NA').toLowerCase()}` }, status ?? 'NA');
}

/** A page's standard header. */
export function header(title: string, subtitle?: string, ...actions: Child[]): HTMLElement {
  return h('header', { class: 'page-head' }, h('div', {}, h('h1', {}, title), subtitle ? h('p', { class: 'muted' }, subtitle) : null), h('div', { class: 'actions' }, ...actions));
}

export function errorBox(e: unknown): HTMLElement {
  const err = e as { code?: string; message?: string };
  return h('div', { class: 'card error-box' }, h('strong', {}, err.code ?? 'Error'), ' ', err.message ?? String(e));
}

export function empty(text: string): HTMLElement {
  return h('div', { class: 'empty' }, text);
}
