import { requestHealth, type DirectedResponses, type Health } from '../health/health.js';
import type { MetricsSource } from '../metrics-source.js';
import { CallerServices, planEdges, securityKey } from './levels.js';
import { mergeNode, type NodeRef } from './nodes.js';
import { resolveOptions, type GraphQueryOptions } from './options.js';
import { TrafficAccumulator } from './traffic-accumulator.js';
import { fetchTrafficRows, type TrafficRow, type TrafficRows } from './traffic-rows.js';
import type { GraphEdge, GraphNode, Reporter, TrafficFigures, TrafficGraph } from './types.js';

// The service graph from a MetricsSource: five PromQL queries (requests, latency buckets, TCP
// bytes both ways, TCP connections) at one evaluation time, rows mapped to nodes and edges by
// level (levels.ts), figures per edge and per node side, health by Kiali's default tolerances.

interface Side {
  acc: TrafficAccumulator;
  keys: Set<string>;
}

interface EdgeState extends Side {
  from: string;
  to: string;
  protocol: string;
  reporters: Set<Reporter>;
}

interface NodeState {
  ref: NodeRef;
  inbound: Side;
  outbound: Side;
}

const side = (): Side => ({ acc: new TrafficAccumulator(), keys: new Set() });

export async function buildGraph(source: MetricsSource, opts: GraphQueryOptions = {}, now: () => number = Date.now): Promise<TrafficGraph> {
  const o = resolveOptions(opts);
  const timeMs = o.timeMs ?? now();
  const { rows, queries } = await fetchTrafficRows(source, { windowMs: o.windowMs, namespace: o.namespace, perInstance: o.level === 'instance', timeMs });
  const graph = assemble(o.level, rows, o.windowMs / 1000);
  return { level: o.level, namespace: o.namespace, window: o.window, windowSeconds: o.windowMs / 1000, timeMs, ...graph, queries };
}

export function assemble(level: TrafficGraph['level'], rows: TrafficRows, windowSeconds: number): Pick<TrafficGraph, 'nodes' | 'edges'> {
  const nodes = new Map<string, NodeState>();
  const edges = new Map<string, EdgeState>();
  const callers = new CallerServices([...rows.requests, ...rows.tcpSent]);

  const node = (ref: NodeRef): NodeState => {
    let n = nodes.get(ref.id);
    if (!n) nodes.set(ref.id, (n = { ref: { ...ref }, inbound: side(), outbound: side() }));
    else mergeNode(n.ref, ref);
    return n;
  };
  const feed = (r: TrafficRow, protocol: string, add: (acc: TrafficAccumulator) => void) => {
    for (const { from, to } of planEdges(level, r, callers)) {
      const a = node(from);
      const b = node(to);
      const id = `${from.id}->${to.id}|${protocol}`;
      let e = edges.get(id);
      if (!e) edges.set(id, (e = { from: from.id, to: to.id, protocol, reporters: new Set(), ...side() }));
      e.reporters.add(r.reporter);
      const key = securityKey(r);
      for (const s of [e, a.outbound, b.inbound]) {
        add(s.acc);
        s.keys.add(key);
      }
    }
  };

  for (const r of rows.requests) feed(r, r.protocol, (acc) => acc.addRequests(r));
  for (const r of rows.buckets) feed(r, r.protocol, (acc) => acc.addBucket(r));
  for (const r of rows.tcpSent) feed(r, 'tcp', (acc) => acc.addTcp('sent', r));
  for (const r of rows.tcpReceived) feed(r, 'tcp', (acc) => acc.addTcp('received', r));
  for (const r of rows.tcpOpened) feed(r, 'tcp', (acc) => acc.addTcp('opened', r));

  applySecurity(rows, [...edges.values(), ...[...nodes.values()].flatMap((n) => [n.inbound, n.outbound])]);

  const outNodes: GraphNode[] = [...nodes.values()].map((n) => nodeView(n, windowSeconds)).sort((a, b) => a.id.localeCompare(b.id));
  const outEdges: GraphEdge[] = [...edges.entries()]
    .map(([id, e]) => edgeView(id, e, windowSeconds))
    .sort((a, b) => a.source.localeCompare(b.source) || a.target.localeCompare(b.target) || a.protocol.localeCompare(b.protocol));
  return { nodes: outNodes, edges: outEdges };
}

/**
 * mTLS as Istio records it: connection_security_policy on destination reports (source sidecars
 * write `unknown`). Each side gets the destination-reported traffic of the (caller workload,
 * service, answering workload) triples it carries, requests and TCP bytes alike (as Kiali does).
 */
function applySecurity(rows: TrafficRows, sides: Side[]): void {
  const byKey = new Map<string, Array<[string, number]>>();
  for (const r of [...rows.requests, ...rows.tcpSent]) {
    if (r.reporter !== 'destination') continue;
    const k = securityKey(r);
    let list = byKey.get(k);
    if (!list) byKey.set(k, (list = []));
    list.push([r.securityPolicy, r.value]);
  }
  for (const s of sides) for (const k of s.keys) for (const [policy, rate] of byKey.get(k) ?? []) s.acc.addSecurity(policy, rate);
}

function figuresOf(s: Side, windowSeconds: number): TrafficFigures | null {
  return s.acc.hasTraffic ? s.acc.figures(windowSeconds) : null;
}

function nodeView(n: NodeState, windowSeconds: number): GraphNode {
  const inbound = figuresOf(n.inbound, windowSeconds);
  const outbound = figuresOf(n.outbound, windowSeconds);
  const health = nodeHealth(n.ref, inbound, outbound);
  return { ...n.ref, inbound, outbound, health: health.status, ...(health.reason && { healthReason: health.reason }) };
}

/**
 * Kiali's node health: a service by what it received; a workload (and an instance) by what it
 * received and what it sent, the worse of the two; a caller outside the mesh has none.
 */
function nodeHealth(ref: NodeRef, inbound: TrafficFigures | null, outbound: TrafficFigures | null): Health {
  if (ref.kind === 'unknown') return { status: 'NA', reason: 'a caller outside the mesh' };
  const directions: DirectedResponses[] = [{ direction: 'inbound', responses: inbound?.responses }];
  if (ref.kind !== 'service') directions.push({ direction: 'outbound', responses: outbound?.responses });
  return requestHealth(directions);
}

function edgeView(id: string, e: EdgeState, windowSeconds: number): GraphEdge {
  const figures = e.acc.figures(windowSeconds);
  const health = requestHealth([{ responses: figures.responses }]);
  return {
    id,
    source: e.from,
    target: e.to,
    protocol: e.protocol,
    reporters: [...e.reporters].sort(),
    ...figures,
    health: health.status,
    ...(health.reason && { healthReason: health.reason }),
  };
}
