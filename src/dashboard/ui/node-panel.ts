import { api, apiOptional } from './api.js';
import { lineChart } from './charts.js';
import { ago, empty, h, healthBadge, ms, pct, rps } from './format.js';
import type { ConfigItem, GraphNode, TraceSummary } from './types.js';

// What the side panel shows for a selected graph node: its figures, charts of the last ten
// minutes (requests, 5xx share, latency quantiles), recent traces through it, and the Istio
// resources that name it.

/** PromQL label matchers for what reached the node (destination-reported, Istio's labels). */
function matchers(n: GraphNode): string | undefined {
  if (n.kind === 'service') return `reporter="destination",destination_service_name="${n.name}",destination_service_namespace="${n.namespace}"`;
  if (n.kind === 'workload') return `reporter="destination",destination_workload="${n.workload ?? n.name}",destination_workload_namespace="${n.namespace}"`;
  if (n.kind === 'instance') return `reporter="destination",destination_workload="${n.workload}",destination_workload_namespace="${n.namespace}"`;
  return undefined;
}

function figures(n: GraphNode): HTMLElement {
  const f = n.inbound ?? n.outbound;
  const cell = (label: string, value: string) => h('div', { class: 'figure' }, h('div', { class: 'figure-value' }, value), h('div', { class: 'figure-label' }, label));
  return h('div', { class: 'figures' },
    cell('req/s in', rps(n.inbound?.rps)),
    cell('success', pct(f?.successRatio)),
    cell('p99', ms(f?.latencyMs?.p99)),
    cell('mTLS', f?.mtls === null || f?.mtls === undefined ? '–' : pct(f.mtls)));
}

/** The resources naming the node's service or workload (its host, or its app label in a selector). */
function appliesTo(item: ConfigItem, n: GraphNode): boolean {
  const name = n.kind === 'service' ? n.name : n.app ?? n.name;
  const text = JSON.stringify(item.raw.spec ?? {});
  return item.namespace === n.namespace || text.includes(`.${n.namespace}`)
    ? new RegExp(`"(${name}|${name}\\.${n.namespace}[^"]*)"`).test(text)
    : false;
}

export async function nodePanel(side: HTMLElement, n: GraphNode): Promise<void> {
  side.replaceChildren(
    h('div', { class: 'panel-head' }, h('div', {}, h('div', { class: 'panel-kind' }, n.kind), h('h2', {}, n.name), h('div', { class: 'muted' }, n.namespace, n.version ? ` · ${n.version}` : '')), healthBadge(n.health)),
    ...(n.healthReason ? [h('p', { class: 'muted small' }, n.healthReason)] : []),
    figures(n),
  );
  const m = matchers(n);
  if (!m) return;
  const charts = h('div', { class: 'charts', id: 'node-charts' });
  const traces = h('div', { class: 'panel-section' }, h('h3', {}, 'Recent traces'));
  const config = h('div', { class: 'panel-section' }, h('h3', {}, 'Config that applies'));
  side.append(charts, traces, config);
  const total = `sum(rate(istio_requests_total{${m}}[1m]))`;
  await Promise.all([
    lineChart(charts, 'Requests per second', [{ legend: 'rps', query: total }]),
    lineChart(charts, 'Errors (5xx share)', [{ legend: '5xx %', query: `sum(rate(istio_requests_total{${m},response_code=~"5.."}[1m]))`, denominator: total }], { unit: '%', scale: 100 }),
    lineChart(charts, 'Latency', ['0.5', '0.95', '0.99'].map((q) => ({ legend: `p${Number(q) * 100}`, query: `histogram_quantile(${q}, sum by (le) (rate(istio_request_duration_milliseconds_bucket{${m}}[1m])))` })), { unit: 'ms' }),
    recentTraces(traces, n),
    configFor(config, n),
  ]);
}

async function recentTraces(el: HTMLElement, n: GraphNode): Promise<void> {
  const service = n.kind === 'service' ? n.name : n.app ?? n.name;
  const body = await apiOptional<{ traces: TraceSummary[] }>(`/api/v1/traces?service=${encodeURIComponent(service)}&namespace=${encodeURIComponent(n.namespace)}&limit=6`);
  const list = body?.traces ?? [];
  if (list.length === 0) {
    el.append(empty('No traces kept for it.'));
    return;
  }
  el.append(h('ul', { class: 'plain-list' }, ...list.map((t) => h('li', {},
    h('a', { href: `#/traces/${t.traceId}`, class: `trace-link${t.error ? ' error' : ''}` }, t.root.name),
    h('span', { class: 'muted small' }, ` ${ms(t.durationMs)} · ${t.spanCount} spans · ${ago(t.startMs)}`)))));
}

async function configFor(el: HTMLElement, n: GraphNode): Promise<void> {
  const { items } = await api<{ items: ConfigItem[] }>('/api/v1/dashboard/config');
  const mine = items.filter((i) => appliesTo(i, n));
  if (mine.length === 0) {
    el.append(empty('No Istio resource names it.'));
    return;
  }
  el.append(h('ul', { class: 'plain-list' }, ...mine.map((i) => h('li', {},
    h('a', { href: `#/config/${encodeURIComponent(`${i.kind}/${i.namespace}/${i.name}`)}` }, `${i.kind} ${i.namespace}/${i.name}`),
    i.messages.length ? h('span', { class: 'badge level-warning' }, `${i.messages.length} IST`) : null))));
}
