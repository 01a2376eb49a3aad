import { api, apiOptional, ApiError } from './api.js';
import { errorBox, h } from './format.js';
import { graphPage } from './graph.js';
import { incidentsPage } from './incidents.js';
import { configPage } from './config.js';
import { tracesPage } from './traces.js';
import { summaryPage } from './summary.js';
import type { ControlPlaneStatus, IncidentSummary } from './types.js';

// The dashboard's shell: a hash router (#/graph, #/incidents/<id>, #/traces/<id>, ...) that
// mounts one page at a time. A page is `(root, params) => cleanup?`; the cleanup stops its
// refresh timers when another page is shown.

type Cleanup = (() => void) | void;
type Page = (root: HTMLElement, params: string[]) => Promise<Cleanup>;

const PAGES: Record<string, Page> = { graph: graphPage, incidents: incidentsPage, config: configPage, traces: tracesPage, summary: summaryPage };
let cleanup: Cleanup;

const byId = (id: string): HTMLElement => document.getElementById(id)!;

async function route(): Promise<void> {
  const [name = 'graph', ...params] = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const known = name in PAGES;
  const page = PAGES[known ? name : 'graph'];
  for (const a of document.querySelectorAll<HTMLElement>('.sidebar a')) a.classList.toggle('active', a.dataset.page === (known ? name : 'graph'));
  if (typeof cleanup === 'function') cleanup();
  cleanup = undefined;
  const root = byId('page');
  root.replaceChildren();
  try {
    cleanup = await page(root, params.filter(Boolean));
  } catch (e) {
    root.append(errorBox(e));
  }
}

/** The sidebar's foot: control plane status and the count of open incidents. */
async function refreshStatus(): Promise<void> {
  try {
    const s = await api<ControlPlaneStatus>('/api/v1/status');
    byId('status-line').replaceChildren(h('div', {}, `config v${s.configVersion}`), h('div', {}, `${s.proxies?.synced ?? 0}/${s.proxies?.known ?? 0} proxies synced`));
    const open = await apiOptional<{ incidents: IncidentSummary[] }>('/api/v1/incidents?status=open');
    const badge = byId('open-count');
    const n = open?.incidents.length ?? 0;
    badge.hidden = n === 0;
    badge.textContent = String(n);
  } catch (e) {
    const denied = e instanceof ApiError && e.status === 401;
    byId('status-line').replaceChildren(h('div', { class: 'warn' }, denied ? 'no access: open the URL `meshmedic dashboard` prints' : 'control plane unreachable'));
  }
}

// The token came in the URL once (the cookie now holds it): keep it out of the address bar and history.
if (new URLSearchParams(location.search).has('token')) history.replaceState(null, '', location.pathname + location.hash);
window.addEventListener('hashchange', () => void route());
if (!location.hash) location.hash = '#/graph';
else void route();
void refreshStatus();
setInterval(() => void refreshStatus(), 5000);
