import { typicalLatency, type Edge, type Entity, type Features } from '../signals/snapshot.js';
import { combine, errorSeverity, latencySeverity, saturationSeverity } from './scoring.js';
import type { SignalIndex } from './signal-index.js';

// A component's OWN anomaly: what its sidecars report it answered (destination reports) minus
// what its callees explain (what its own sidecar saw on its calls: source reports). Errors and
// latency that propagate upstream are thereby charged to the callee that produced them, never
// to the callers that passed them on:
//
//   own errors/s  = excess app errors it answered - excess errors its calls got
//   own latency   = added mean latency it answered - sum over its calls of
//                   (calls per request) x (added mean latency of that call)
//
// "Excess" and "added" are against the baseline window, so a service that always had a few
// errors is not blamed for them. Errors with a response flag (UF, UH, UO, ...) are the proxies'
// own replies: they belong to the mechanisms that made them (a dead instance, a circuit
// breaker, a missing route), not to the application, and other generators read them.

export interface Delta {
  rps: number;
  baseRps: number | null;
  requests: number;
  errorExcessRps: number;
  appErrorExcessRps: number;
  meanMs: number | null;
  baseMeanMs: number | null;
  addedMs: number;
}

export function delta(cur: Features | null, base: Features | null): Delta {
  const rps = cur?.rps ?? 0;
  const baseRatio = base?.errorRatio ?? 0;
  const baseAppRatio = base && base.rps > 0 ? base.appErrorRps / base.rps : 0;
  return {
    rps,
    baseRps: base?.rps ?? null,
    requests: cur?.requests ?? 0,
    errorExcessRps: Math.max(0, (cur?.errorRps ?? 0) - rps * baseRatio),
    appErrorExcessRps: Math.max(0, (cur?.appErrorRps ?? 0) - rps * baseAppRatio),
    meanMs: typicalLatency(cur),
    baseMeanMs: typicalLatency(base),
    addedMs: typicalLatency(cur) !== null && typicalLatency(base) !== null ? typicalLatency(cur)! - typicalLatency(base)! : 0,
  };
}

export interface Explained {
  errorRps: number;
  addedMs: number;
  /** The calls that explain the most, for the evidence. */
  worst?: { edge: Edge; errorRps: number; addedMs: number };
}

/** What a component's calls explain of its inbound anomaly (inbound rate `inRps`). */
export function explainedByCalls(edges: readonly Edge[], inRps: number): Explained {
  let errorRps = 0;
  let addedMs = 0;
  let worst: Explained['worst'];
  for (const e of edges) {
    const d = delta(e.current.source, e.baseline.source);
    // A call whose rate is not known (a recording of latencies only) counts once per request.
    const perRequest = inRps > 0 && d.rps > 0 ? d.rps / inRps : d.meanMs !== null ? 1 : 0;
    const ms = perRequest * Math.max(0, d.addedMs);
    errorRps += d.errorExcessRps;
    addedMs += ms;
    if (!worst || d.errorExcessRps + ms / 1000 > worst.errorRps + worst.addedMs / 1000) worst = { edge: e, errorRps: d.errorExcessRps, addedMs: ms };
  }
  return { errorRps, addedMs, ...(worst && (worst.errorRps > 0 || worst.addedMs > 0) && { worst }) };
}

export interface OwnAnomaly {
  rps: number;
  requests: number;
  /** Own app errors per second and as a share of the requests. */
  errorRps: number;
  errorRatio: number;
  /** Own added mean latency (ms) and the baseline mean. */
  addedMs: number;
  baselineMs: number | null;
  /** Before subtraction: what the component's sidecars reported. */
  inboundErrorRatio: number;
  inboundAddedMs: number;
  explained: Explained;
  /** CPU use added over the baseline (percentage points), where the platform reports it. */
  cpuAddedPct: number;
  baselineCpuPct: number | null;
  errorSeverity: number;
  latencySeverity: number;
  saturationSeverity: number;
  severity: number;
}

const NONE: OwnAnomaly = {
  rps: 0, requests: 0, errorRps: 0, errorRatio: 0, addedMs: 0, baselineMs: null, inboundErrorRatio: 0, inboundAddedMs: 0,
  explained: { errorRps: 0, addedMs: 0 }, cpuAddedPct: 0, baselineCpuPct: null, errorSeverity: 0, latencySeverity: 0, saturationSeverity: 0, severity: 0,
};

function finish(a: Omit<OwnAnomaly, 'errorSeverity' | 'latencySeverity' | 'saturationSeverity' | 'severity'>): OwnAnomaly {
  const es = errorSeverity(a.errorRatio);
  const ls = latencySeverity(a.addedMs, a.baselineMs);
  const ss = saturationSeverity(a.cpuAddedPct, a.baselineCpuPct);
  return { ...a, errorSeverity: es, latencySeverity: ls, saturationSeverity: ss, severity: combine(es, ls, ss) };
}

/**
 * An entity's own anomaly from its destination reports and the given calls. Without per-call
 * figures (a recording), the entity's own outbound figures stand for its calls.
 */
export function ownOf(entity: Entity, calls: readonly Edge[]): OwnAnomaly {
  const d = delta(entity.current.destination, entity.baseline.destination);
  const known = d.rps > 0 || d.meanMs !== null;
  if (!known) return NONE;
  const withFigures = calls.filter((e) => e.current.source && (e.current.source.rps > 0 || typicalLatency(e.current.source) !== null));
  const explained = explainedByCalls(withFigures.length || !entity.outbound ? withFigures : [outboundAsCall(entity)], d.rps);
  const errorRps = Math.max(0, d.appErrorExcessRps - explained.errorRps);
  const addedMs = Math.max(0, d.addedMs - explained.addedMs);
  const cpu = entity.cpuPercent;
  const cpuAddedPct = cpu && cpu.current !== null && cpu.baseline !== null ? cpu.current - cpu.baseline : 0;
  return finish({
    rps: d.rps, requests: d.requests, errorRps, errorRatio: d.rps > 0 ? errorRps / d.rps : 0, addedMs, baselineMs: d.baseMeanMs,
    inboundErrorRatio: d.rps > 0 ? d.appErrorExcessRps / d.rps : 0, inboundAddedMs: d.addedMs, explained,
    cpuAddedPct, baselineCpuPct: cpu?.baseline ?? null,
  });
}

/** A workload's outbound figures (what its own sidecars measured of all its calls) as one call. */
function outboundAsCall(e: Entity): Edge {
  return {
    id: `${e.id}|outbound`, sourceWorkload: e.workload ?? e.service ?? '', sourceNamespace: e.namespace, host: '', service: '', namespace: e.namespace, external: false, protocol: 'http',
    current: { source: e.outbound!.current, destination: null }, baseline: { source: e.outbound!.baseline, destination: null },
  };
}

/** Several parts' own anomalies as one (a workload from its instances): errors add up, latency is rate-weighted. */
export function aggregate(parts: readonly OwnAnomaly[]): OwnAnomaly {
  // Weighted by rate; parts whose rate is unknown (a recording) weigh alike.
  const rated = parts.filter((p) => p.rps > 0);
  const live = rated.length ? rated : parts.filter(present);
  if (live.length === 0) return NONE;
  const weight = (p: OwnAnomaly) => (rated.length ? p.rps : 1);
  const rps = sum(live, (p) => p.rps);
  const totalWeight = sum(live, weight);
  const hottest = [...live].sort((a, b) => b.cpuAddedPct - a.cpuAddedPct)[0];
  const errorRps = sum(live, (p) => p.errorRps);
  const w = (f: (p: OwnAnomaly) => number) => sum(live, (p) => weight(p) * f(p)) / totalWeight;
  const base = live.filter((p) => p.baselineMs !== null);
  return finish({
    rps,
    requests: sum(live, (p) => p.requests),
    errorRps,
    errorRatio: rps > 0 ? errorRps / rps : 0,
    addedMs: w((p) => p.addedMs),
    baselineMs: base.length ? sum(base, (p) => weight(p) * p.baselineMs!) / sum(base, weight) : null,
    inboundErrorRatio: w((p) => p.inboundErrorRatio),
    inboundAddedMs: w((p) => p.inboundAddedMs),
    explained: { errorRps: sum(live, (p) => p.explained.errorRps), addedMs: w((p) => p.explained.addedMs), worst: live.map((p) => p.explained.worst).find(Boolean) },
    // A part that saturates is what matters, not the average.
    cpuAddedPct: hottest.cpuAddedPct,
    baselineCpuPct: hottest.baselineCpuPct,
  });
}

/** Whether a part has figures at all: a rate, or (a recording without one) a latency or CPU figure. */
export function present(a: OwnAnomaly): boolean {
  return a.rps > 0 || a.baselineMs !== null || a.inboundAddedMs !== 0 || a.severity > 0;
}

function sum<T>(xs: readonly T[], f: (x: T) => number): number {
  let s = 0;
  for (const x of xs) s += f(x);
  return s;
}

/**
 * Own anomalies at every level of one service: each instance (its destination reports and its
 * own calls), each workload and the service as aggregates of their instances. Instances that
 * failed as processes (`excluded`) are left out: their errors are the instance generator's.
 * Without per-instance reports (a platform without pod labels) workloads stand on their own.
 */
export interface ServiceAnomaly {
  host: string;
  instances: Map<string, { entity: Entity; own: OwnAnomaly }>;
  workloads: Map<string, { entity: Entity; own: OwnAnomaly }>;
  service: OwnAnomaly;
}

export function serviceAnomaly(index: SignalIndex, host: string, excluded: ReadonlySet<string>): ServiceAnomaly {
  const instances = new Map<string, { entity: Entity; own: OwnAnomaly }>();
  const workloads = new Map<string, { entity: Entity; own: OwnAnomaly }>();
  for (const w of index.workloadsOf(host)) {
    const insts = index.instancesOf(host, w.workload).filter((i) => !excluded.has(`${i.namespace}/${i.instance}`));
    const parts: OwnAnomaly[] = [];
    for (const i of insts) {
      const own = ownOf(i, index.outEdgesOfInstance(i.namespace, i.instance!));
      instances.set(`${i.namespace}/${i.instance}`, { entity: i, own });
      parts.push(own);
    }
    const all = index.instancesOf(host, w.workload);
    const own = all.length ? aggregate(parts) : ownOf(w, index.outEdgesOfWorkload(w.namespace, w.workload!));
    workloads.set(`${w.namespace}/${w.workload}`, { entity: w, own });
  }
  const svc = index.services.get(host);
  // No workload reports at all (a platform without them): the service on its own, with the calls of whoever serves it.
  const service = workloads.size === 0 && svc ? ownOf(svc, index.snapshot.edges.filter((e) => e.sourceService === host)) : aggregate([...workloads.values()].map((w) => w.own));
  return { host, instances, workloads, service };
}
