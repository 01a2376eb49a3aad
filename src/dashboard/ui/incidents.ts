import { api, apiOptional } from './api.js';
import { describeTarget } from './cause-target.js';
import { ago, dateTime, empty, h, header, time } from './format.js';
import { recoverySection } from './recovery.js';
import type { Detection, IncidentDetail, IncidentSummary, RankedCause, TimelineEntry } from './types.js';

// Incidents (GET /api/v1/incidents, /api/v1/incidents/:id): the list, and one incident with its
// detections, timeline, ranked causes with their evidence, and recovery's actions.

const REFRESH_MS = 5000;

export async function incidentsPage(root: HTMLElement, [id]: string[]): Promise<() => void> {
  return id ? incidentDetail(root, id) : incidentList(root);
}

async function incidentList(root: HTMLElement): Promise<() => void> {
  const body = h('div', { id: 'incident-list' });
  root.append(header('Incidents', 'Opened by detection, ranked by diagnosis; newest first'), body);
  const draw = async (): Promise<void> => {
    const res = await apiOptional<{ incidents: IncidentSummary[] }>('/api/v1/incidents?limit=100');
    if (!res) return body.replaceChildren(empty('Diagnosis is not running on this control plane.'));
    if (res.incidents.length === 0) return body.replaceChildren(empty('No incidents. Everything the checks watch is within its SLO.'));
    body.replaceChildren(h('table', { class: 'table' },
      h('thead', {}, h('tr', {}, ...['Status', 'Subject', 'Opened', 'Likely cause', 'Score', 'Detections'].map((c) => h('th', {}, c)))),
      h('tbody', {}, ...res.incidents.map((i) => h('tr', { class: 'clickable', onclick: () => { location.hash = `#/incidents/${encodeURIComponent(i.id)}`; } },
        h('td', {}, h('span', { class: `badge status-${i.status}` }, i.status)),
        h('td', {}, h('a', { href: `#/incidents/${encodeURIComponent(i.id)}` }, i.subject), h('div', { class: 'muted small' }, i.id)),
        h('td', {}, dateTime(i.openedAt), h('div', { class: 'muted small' }, ago(i.openedAt))),
        h('td', { class: 'cause-cell' }, i.topCause ? describeTarget(i.topCause.target) : h('span', { class: 'muted' }, 'ranking…')),
        h('td', {}, i.topCause ? scoreBar(i.topCause.score) : '–'),
        h('td', {}, String(i.detections)))))));
  };
  await draw();
  const timer = setInterval(() => draw().catch(() => undefined), REFRESH_MS);
  return () => clearInterval(timer);
}

function scoreBar(score: number): HTMLElement {
  return h('div', { class: 'score' }, h('div', { class: 'score-bar' }, h('i', { style: `width:${Math.round(score * 100)}%` })), h('span', {}, score.toFixed(2)));
}

async function incidentDetail(root: HTMLElement, id: string): Promise<() => void> {
  const body = h('div', {});
  root.append(body);
  const draw = async (): Promise<void> => {
    const inc = await api<IncidentDetail>(`/api/v1/incidents/${encodeURIComponent(id)}`);
    body.replaceChildren(
      header(inc.subject, `Incident ${inc.id} · ${inc.namespace}`, h('span', { class: `badge status-${inc.status}` }, inc.status), h('a', { class: 'button', href: '#/graph' }, 'Show on graph')),
      h('div', { class: 'figures wide' },
        fig('Onset', time(inc.onsetAt)), fig('Opened', time(inc.openedAt)), fig(inc.closedAt ? 'Closed' : 'Open for', inc.closedAt ? time(inc.closedAt) : ago(inc.openedAt).replace(' ago', '')), fig('Detections', inc.detections.length)),
      h('div', { class: 'two-col' },
        h('section', { class: 'card' }, h('h2', {}, 'Ranked causes'), causes(inc.causes)),
        h('div', {},
          recoverySection(inc.actions, () => void draw()),
          h('section', { class: 'card' }, h('h2', {}, 'Timeline'), timeline(inc.timeline)),
          h('section', { class: 'card' }, h('h2', {}, 'Detections'), detections(inc.detections)))),
    );
  };
  await draw();
  const timer = setInterval(() => draw().catch(() => undefined), REFRESH_MS);
  return () => clearInterval(timer);
}

const fig = (label: string, value: string | number) => h('div', { class: 'figure' }, h('div', { class: 'figure-value' }, String(value)), h('div', { class: 'figure-label' }, label));

function causes(list: RankedCause[]): HTMLElement {
  if (!list.length) return empty('Not ranked yet.');
  return h('ol', { class: 'causes' }, ...list.slice(0, 8).map((c, i) => h('li', { class: `cause${i === 0 ? ' top' : ''}` },
    h('div', { class: 'cause-head' }, h('span', { class: 'rank' }, `#${i + 1}`), h('strong', {}, describeTarget(c.target)), c.mechanism ? h('span', { class: 'badge mechanism' }, c.mechanism) : null, scoreBar(c.score)),
    h('p', {}, c.summary),
    h('ul', { class: 'evidence' }, ...c.evidence.map((e) => h('li', {}, h('span', { class: `badge signal-${e.signal}` }, e.signal), ' ', e.text, e.query ? h('code', { class: 'query', title: 'PromQL' }, e.query) : null))))));
}

function timeline(entries: TimelineEntry[]): HTMLElement {
  if (!entries.length) return empty('Nothing yet.');
  return h('ul', { class: 'timeline' }, ...entries.map((t) => h('li', { class: `tl-${t.kind}` }, h('span', { class: 'tl-time' }, time(t.at)), h('span', { class: 'tl-kind' }, t.kind), h('span', {}, t.text))));
}

function detections(list: Detection[]): HTMLElement {
  if (!list.length) return empty('None.');
  return h('ul', { class: 'plain-list' }, ...list.slice(0, 12).map((d) => h('li', {}, h('strong', {}, d.check), ' ', d.text ?? `${d.subject}: ${d.value} (threshold ${d.threshold}, ${d.window})`)));
}
