import cytoscape from 'cytoscape';
import { api, apiOptional } from './api.js';
import { elementIdsFor, describeTarget } from './cause-target.js';
import { errorBox, h, header, HEALTH_COLOURS, ms, pct, rps } from './format.js';
import { nodePanel } from './node-panel.js';
import type { GraphEdge, GraphNode, IncidentSummary, TrafficGraph } from './types.js';

// The traffic graph (GET /api/v1/graph): services and workloads (or instances) as nodes, edges
// with rps, 5xx share, p99, response flags and an mTLS mark; colours by Kiali's health. Every 5 s
// the figures are refreshed in place; the layout is redone only when nodes come or go. The node
// an open incident names as root cause is ringed and labelled.

const REFRESH_MS = 5000;

declare global {
  interface Window {
    /** The live graph, for the end-to-end test (and the browser console). */
    meshmedicGraph?: cytoscape.Core;
  }
}

function edgeLabel(e: GraphEdge): string {
  const parts = [`${rps(e.rps)} rps`];
  const second: string[] = [];
  if (e.errorRatio) parts.push(`${pct(e.errorRatio)} 5xx`);
  if (e.latencyMs) second.push(`p99 ${ms(e.latencyMs.p99)}`);
  if (e.mtls !== null && e.mtls >= 0.99) second.push('mTLS');
  const flags = Object.keys(e.flags ?? {});
  if (flags.length) second.push(`⚑ ${flags.join(' ')}`);
  return second.length ? `${parts.join(' · ')}\n${second.join(' · ')}` : parts.join(' · ');
}

function nodeLabel(n: GraphNode): string {
  if (n.kind === 'unknown') return 'unknown';
  if (n.kind === 'workload' && n.version) return `${n.app ?? n.name}\n${n.version}`;
  return n.name;
}

const colourOf = (health: string | undefined) => HEALTH_COLOURS[health ?? 'NA'] ?? HEALTH_COLOURS.NA;

function elements(graph: TrafficGraph): cytoscape.ElementDefinition[] {
  return [
    ...graph.nodes.map((n) => ({ group: 'nodes' as const, data: { id: n.id, label: nodeLabel(n), kind: n.kind, health: n.health ?? 'NA', colour: colourOf(n.health), node: n } })),
    ...graph.edges.map((e) => ({ group: 'edges' as const, data: { id: e.id, source: e.source, target: e.target, label: edgeLabel(e), colour: colourOf(e.health), width: Math.min(6, 1.5 + Math.log10(1 + e.rps * 10)), edge: e } })),
  ];
}

const STYLE: cytoscape.StylesheetJson = [
  { selector: 'node', style: { label: 'data(label)', 'text-wrap': 'wrap', 'text-valign': 'bottom', 'text-margin-y': 6, 'font-size': 12, 'font-family': 'Inter, system-ui, sans-serif', color: '#1f2933', 'background-color': '#fff', 'border-width': 3, 'border-color': 'data(colour)', width: 34, height: 34 } },
  { selector: 'node[kind = "service"]', style: { shape: 'round-triangle', width: 38, height: 34 } },
  { selector: 'node[kind = "workload"], node[kind = "instance"]', style: { shape: 'ellipse' } },
  { selector: 'node[kind = "unknown"]', style: { shape: 'round-diamond', 'border-color': '#868e96' } },
  { selector: 'node.root-cause', style: { 'border-width': 6, 'border-color': '#e03131', 'background-color': '#ffe3e3', 'overlay-color': '#e03131', 'overlay-opacity': 0.12, 'overlay-padding': 10, label: (el: cytoscape.NodeSingular) => `${el.data('label')}\nROOT CAUSE`, color: '#c92a2a', 'font-weight': 700 } },
  { selector: 'node:selected', style: { 'background-color': '#e7f5ff', 'border-color': '#1c7ed6' } },
  { selector: 'edge', style: { width: 'data(width)', 'line-color': 'data(colour)', 'target-arrow-color': 'data(colour)', 'target-arrow-shape': 'triangle', 'curve-style': 'bezier', label: 'data(label)', 'font-size': 10, 'text-wrap': 'wrap', 'text-background-color': '#ffffff', 'text-background-opacity': 0.9, 'text-background-padding': '2', color: '#495057', 'text-rotation': 'none', 'text-margin-y': -10 } },
  { selector: 'edge.root-cause', style: { 'line-color': '#e03131', 'target-arrow-color': '#e03131', 'line-style': 'dashed' } },
];

export async function graphPage(root: HTMLElement): Promise<() => void> {
  const level = sessionStorage.getItem('graph-level') ?? 'workload';
  const levelSelect = h('select', { id: 'graph-level', onchange: () => { sessionStorage.setItem('graph-level', levelSelect.value); void refresh(true); } },
    ...['service', 'workload', 'instance'].map((l) => h('option', { value: l, selected: l === level }, `${l} graph`))) as HTMLSelectElement;
  const stamp = h('span', { class: 'muted', id: 'graph-updated' });
  const banner = h('div', { id: 'incident-banner' });
  const canvas = h('div', { class: 'graph-canvas', id: 'graph-canvas' });
  const side = h('aside', { class: 'side-panel', id: 'side-panel' }, h('div', { class: 'empty' }, 'Select a node to see its traffic, traces and config.'));
  const legend = h('div', { class: 'legend' }, ...Object.entries(HEALTH_COLOURS).map(([k, c]) => h('span', {}, h('i', { style: `border-color:${c}` }), k)), h('span', {}, '▲ service'), h('span', {}, '● workload'));
  root.append(header('Traffic graph', 'Last minute of traffic, refreshed every 5 seconds', stamp, levelSelect), banner, h('div', { class: 'graph-layout' }, h('div', { class: 'card graph-card' }, canvas, legend), side));

  const cy = cytoscape({ container: canvas, style: STYLE, elements: [], minZoom: 0.3, maxZoom: 2.5 });
  window.meshmedicGraph = cy;
  let shownIds = '';
  let selected: string | undefined;
  cy.on('tap', 'node', (ev) => {
    selected = ev.target.id();
    void nodePanel(side, ev.target.data('node') as GraphNode);
  });

  async function refresh(relayout = false): Promise<void> {
    try {
      const [graph, open] = await Promise.all([api<TrafficGraph>(`/api/v1/graph?level=${levelSelect.value}&window=1m`), apiOptional<{ incidents: IncidentSummary[] }>('/api/v1/incidents?status=open')]);
      const els = elements(graph);
      const ids = els.map((e) => e.data.id).sort().join('|');
      if (relayout || ids !== shownIds) {
        cy.elements().remove();
        cy.add(els);
        // Breadth-first ranks turned to run left to right (as Kiali draws): edges mostly horizontal, their labels readable.
        cy.layout({ name: 'breadthfirst', directed: true, spacingFactor: 1, padding: 40, roots: cy.nodes().filter((n) => n.indegree(false) === 0).map((n) => n.id()), transform: (_n, p) => ({ x: p.y * 1.4, y: p.x * 0.7 }) }).run();
        shownIds = ids;
        if (selected) cy.getElementById(selected).select();
      } else {
        for (const e of els) cy.getElementById(e.data.id!).data(e.data);
      }
      markRootCause(cy, banner, open?.incidents ?? []);
      canvas.dataset.nodes = String(graph.nodes.length);
      stamp.textContent = `updated ${new Date().toLocaleTimeString([], { hour12: false })}`;
    } catch (e) {
      banner.replaceChildren(errorBox(e));
    }
  }

  await refresh(true);
  const timer = setInterval(() => void refresh(), REFRESH_MS);
  return () => {
    clearInterval(timer);
    cy.destroy();
  };
}

function markRootCause(cy: cytoscape.Core, banner: HTMLElement, incidents: IncidentSummary[]): void {
  cy.elements().removeClass('root-cause');
  const inc = incidents.find((i) => i.topCause);
  if (!inc?.topCause) {
    banner.replaceChildren();
    return;
  }
  for (const id of elementIdsFor(inc.topCause.target)) {
    const el = cy.getElementById(id);
    if (el.nonempty()) {
      el.addClass('root-cause');
      break;
    }
  }
  banner.replaceChildren(
    h('a', { class: 'incident-banner', href: `#/incidents/${encodeURIComponent(inc.id)}` },
      h('strong', {}, 'Open incident'), ` ${inc.subject} — likely cause: ${describeTarget(inc.topCause.target)} (score ${inc.topCause.score.toFixed(2)})`, h('span', { class: 'link' }, 'Investigate →')),
  );
}
