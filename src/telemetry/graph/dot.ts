import type { HealthStatus } from '../health/health.js';
import { bytes, errorShare, ms, percent, rate } from './format.js';
import type { GraphEdge, GraphNode, TrafficGraph } from './types.js';

// The graph in Graphviz's DOT language (`meshmedic graph -o dot | dot -Tsvg > mesh.svg`):
// services as rounded boxes, workloads as ellipses, instances as small boxes, callers outside
// the mesh as diamonds; edges labelled with rps, error % and p99 (TCP: bytes/s); colours by
// Kiali's health (red Failure, orange Degraded, green Healthy, grey NA).

const COLOR: Record<HealthStatus, string> = { Failure: '#c9190b', Degraded: '#f0ab00', Healthy: '#3e8635', NA: '#8a8d90' };

const SHAPE: Record<GraphNode['kind'], string> = {
  service: 'shape=box, style="rounded"',
  workload: 'shape=ellipse',
  instance: 'shape=box, fontsize=10',
  unknown: 'shape=diamond',
};

/** A DOT double-quoted string. */
function q(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

export function toDot(g: TrafficGraph): string {
  const lines = [
    'digraph meshmedic {',
    `  label=${q(`meshmedic ${g.level} graph${g.namespace ? ` of ${g.namespace}` : ''}, last ${g.window}`)};`,
    '  labelloc=t; rankdir=LR; fontname="Helvetica";',
    '  node [fontname="Helvetica", penwidth=2]; edge [fontname="Helvetica", fontsize=10];',
  ];
  for (const n of g.nodes) lines.push(`  ${q(n.id)} [label=${q(nodeLabel(n))}, ${SHAPE[n.kind]}, color=${q(COLOR[n.health])}];`);
  for (const e of g.edges) lines.push(`  ${q(e.source)} -> ${q(e.target)} [label=${q(edgeLabel(e))}, color=${q(COLOR[e.health])}${e.mtls === 1 ? ', style=bold' : ''}];`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function nodeLabel(n: GraphNode): string {
  if (n.kind === 'unknown') return 'unknown';
  const sub = n.kind === 'workload' && n.version ? n.version : n.namespace;
  return `${n.name}\n${sub}`;
}

export function edgeLabel(e: GraphEdge): string {
  if (e.protocol === 'tcp') return `tcp ${bytes((e.tcp?.sentBytesPerSec ?? 0) + (e.tcp?.receivedBytesPerSec ?? 0))}/s`;
  const parts = [`${rate(e.rps)} rps`, `${percent(errorShare(e))} err`];
  if (e.latencyMs) parts.push(`p99 ${ms(e.latencyMs.p99)}`);
  const flags = Object.keys(e.flags);
  if (flags.length) parts.push(flags.join(' '));
  return parts.join('\n');
}
