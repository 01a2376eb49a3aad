import type { HealthStatus } from '../health/health.js';
import type { MetricsSource } from '../metrics-source.js';
import { buildGraph } from './build-graph.js';
import { destinationWorkloadNode, serviceNode } from './nodes.js';
import { parseNamespace, parseWindow, type StatKind } from './options.js';
import { knownDestinationsQuery } from './queries.js';
import { rowOf } from './traffic-rows.js';
import type { GraphNode, TrafficFigures } from './types.js';

// `linkerd viz stat` for the mesh: one row per service or workload with what it received over
// the window (success rate, rps, latency quantiles) and its health. The figures are the
// workload graph's nodes, so stat and graph never disagree: a service's row is everything its
// callers sent it (source-reported for callers with a sidecar, destination-reported for the
// others, as the graph counts them); a workload's row is what reached it, and its health also
// weighs what it sent, as Kiali's workload health does. Services and workloads whose sidecars
// export Istio's counters but saw nothing in the window are listed too, with health NA.

export interface StatRow extends Omit<TrafficFigures, 'responses'> {
  kind: StatKind;
  namespace: string;
  name: string;
  service?: string;
  external?: boolean;
  workload?: string;
  app?: string;
  version?: string;
  /** Workloads: requests per second they sent. */
  outboundRps?: number;
  health: HealthStatus;
  healthReason?: string;
}

export interface StatTable {
  kind: StatKind;
  namespace: string | null;
  window: string;
  windowSeconds: number;
  timeMs: number;
  rows: StatRow[];
  queries: string[];
}

export interface StatOptions {
  kind: StatKind;
  namespace?: string;
  window?: string;
  timeMs?: number;
  /** Only this service or workload (short name or FQDN). */
  name?: string;
}

const NO_TRAFFIC: Omit<TrafficFigures, 'responses'> = {
  rps: 0,
  requests: 0,
  successRatio: null,
  errorRatio: null,
  clientErrorRatio: null,
  grpcErrorRatio: null,
  noResponseRatio: null,
  latencyMs: null,
  flags: {},
  mtls: null,
  tcp: null,
};

export async function buildStat(source: MetricsSource, o: StatOptions, now: () => number = Date.now): Promise<StatTable> {
  const { window, windowMs } = parseWindow(o.window);
  const namespace = parseNamespace(o.namespace);
  const timeMs = o.timeMs ?? now();
  const graph = await buildGraph(source, { window, namespace: namespace ?? undefined, level: 'workload', timeMs }, now);
  const idleQuery = knownDestinationsQuery(namespace);
  const idle = await source.query(idleQuery, timeMs);

  const wanted = o.kind === 'service' ? 'service' : 'workload';
  const rows = new Map<string, StatRow>();
  for (const n of graph.nodes) if (n.kind === wanted) rows.set(n.id, rowOfNode(o.kind, n));
  if (idle.resultType === 'vector') {
    for (const s of idle.result) {
      const r = rowOf(s.metric, 0);
      const ref = o.kind === 'service' ? serviceNode(r) : destinationWorkloadNode(r);
      if (!ref || rows.has(ref.id)) continue;
      const { id: _id, kind: _kind, ...fields } = ref;
      rows.set(ref.id, { ...NO_TRAFFIC, ...fields, kind: o.kind, health: 'NA', healthReason: 'no requests in the window' });
    }
  }
  const out = [...rows.values()]
    .filter((r) => namespace === null || r.namespace === namespace)
    .filter((r) => o.name === undefined || r.name === o.name || r.service === o.name)
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  return { kind: o.kind, namespace, window, windowSeconds: windowMs / 1000, timeMs, rows: out, queries: [...graph.queries, idleQuery] };
}

function rowOfNode(kind: StatKind, n: GraphNode): StatRow {
  const { responses: _r, ...figures } = n.inbound ?? { ...NO_TRAFFIC, responses: {} };
  return {
    ...figures,
    kind,
    namespace: n.namespace,
    name: n.name,
    ...(n.service !== undefined && { service: n.service }),
    ...(n.external && { external: true }),
    ...(n.workload !== undefined && { workload: n.workload }),
    ...(n.app !== undefined && { app: n.app }),
    ...(n.version !== undefined && { version: n.version }),
    ...(kind === 'workload' && { outboundRps: n.outbound?.rps ?? 0 }),
    health: n.health,
    ...(n.healthReason && { healthReason: n.healthReason }),
  };
}
