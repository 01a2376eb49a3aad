// Small formatting and DOM helpers shared by the pages.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

export const pct = (r) => (r === null || r === undefined ? '–' : `${(r * 100).toFixed(r > 0 && r < 0.001 ? 3 : 1)}%`);
export const rps = (v) => (v === null || v === undefined ? '–' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
export const ms = (v) => (v === null || v === undefined ? '–' : v >= 1000 ? `${(v / 1000).toFixed(2)}s` : `${v >= 10 ? v.toFixed(0) : v.toFixed(1)}ms`);
export const time = (t) => new Date(t).toLocaleTimeString([], { hour12: false });
export const dateTime = (t) => new Date(t).toLocaleString([], { hour12: false });

export function ago(t) {
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}

export const HEALTH_COLOURS = { Healthy: '#2f9e44', Degraded: '#f08c00', Failure: '#e03131', NA: '#adb5bd' };

export function healthBadge(status) {
  return h('span', { class: `badge health-${(status ?? 'NA').toLowerCase()}` }, status ?? 'NA');
}

/** A page's standard header. */
export function header(title, subtitle, ...actions) {
  return h('header', { class: 'page-head' }, h('div', {}, h('h1', {}, title), subtitle ? h('p', { class: 'muted' }, subtitle) : null), h('div', { class: 'actions' }, ...actions));
}

export function errorBox(e) {
  return h('div', { class: 'card error-box' }, h('strong', {}, e.code ?? 'Error'), ' ', e.message ?? String(e));
}

export function empty(text) {
  return h('div', { class: 'empty' }, text);
}
