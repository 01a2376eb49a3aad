import { api, apiOptional } from './api.js';
import { errorBox, h } from './format.js';
import { graphPage } from './graph.js';
import { incidentsPage } from './incidents.js';
import { configPage } from './config.js';
import { tracesPage } from './traces.js';
import { summaryPage } from './summary.js';

// The dashboard's shell: a hash router (#/graph, #/incidents/<id>, #/traces/<id>, ...) that
// mounts one page at a time. A page is `(root, params) => cleanup?`; the cleanup stops its
// refresh timers when another page is shown.

const PAGES = { graph: graphPage, incidents: incidentsPage, config: configPage, traces: tracesPage, summary: summaryPage };
let cleanup;

async function route() {
  const [name = 'graph', ...params] = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const page = PAGES[name] ?? graphPage;
  for (const a of document.querySelectorAll('.sidebar a')) a.classList.toggle('active', a.dataset.page === (PAGES[name] ? name : 'graph'));
  if (typeof cleanup === 'function') cleanup();
  cleanup = undefined;
  const root = document.getElementById('page');
  root.replaceChildren();
  try {
    cleanup = await page(root, params.filter(Boolean));
  } catch (e) {
    root.append(errorBox(e));
  }
}

/** The sidebar's foot: control plane status and the count of open incidents. */
async function refreshStatus() {
  try {
    const s = await api('/api/v1/status');
    document.getElementById('status-line').replaceChildren(
      h('div', {}, `config v${s.configVersion}`),
      h('div', {}, `${s.proxies?.synced ?? 0}/${s.proxies?.known ?? 0} proxies synced`),
    );
    const open = await apiOptional('/api/v1/incidents?status=open');
    const badge = document.getElementById('open-count');
    const n = open?.incidents?.length ?? 0;
    badge.hidden = n === 0;
    badge.textContent = String(n);
  } catch (e) {
    document.getElementById('status-line').replaceChildren(h('div', { class: 'warn' }, e.status === 401 ? 'no access: open the URL `meshmedic dashboard` prints' : 'control plane unreachable'));
  }
}

// The token came in the URL once (the cookie now holds it): keep it out of the address bar and history.
if (new URLSearchParams(location.search).has('token')) history.replaceState(null, '', location.pathname + location.hash);
window.addEventListener('hashchange', route);
if (!location.hash) location.hash = '#/graph';
else route();
refreshStatus();
setInterval(refreshStatus, 5000);
