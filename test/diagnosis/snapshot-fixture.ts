import { assembleTraffic } from '../../src/diagnosis/signals/metrics-adapter.js';
import type { SignalRow } from '../../src/diagnosis/signals/traffic-rows.js';
import type { InstanceState, SignalSnapshot } from '../../src/diagnosis/signals/snapshot.js';
import type { WindowRows } from '../../src/diagnosis/signals/traffic-assembly.js';
import { ISTIO_BUCKETS } from '../../src/telemetry/sidecar/histogram.js';

// SignalSnapshots built by hand for the localization tests: calls between pods described by
// rate, errors, flags and latency, turned into the rows Istio's metrics would give (both
// reporters, per pod) and assembled by the real adapter code. Windows: baseline 60 s, current
// 10 s ending at NOW.

export const NOW = 1_700_000_100_000;
export const CURRENT = { startMs: NOW - 10_000, endMs: NOW };
export const BASELINE = { startMs: NOW - 72_000, endMs: NOW - 12_000 };

export interface Pod {
  app: string;
  version: string;
  namespace: string;
  workload: string;
  pod: string;
}

export const pod = (app: string, version = 'v1', index = 0, namespace = 'bookinfo'): Pod => ({ app, version, namespace, workload: `${app}-${version}`, pod: `${app}-${version}-${index}` });

export interface Call {
  from: Pod | null;
  /** The service called: short name in `to`'s namespace (or `namespace`), or an external host with `external`. */
  service: string;
  namespace?: string;
  external?: boolean;
  /** The pod that answered; null: none was reached (UH, NR, NC, a refused connection). */
  to: Pod | null;
  rps: number;
  /** Mean latency the destination measured (ms). */
  ms: number;
  /** Share of these requests answered with `code` (default 500) by the application. */
  errors?: number;
  code?: string;
  /** The grpc-status of those failed requests (a gRPC error rides on HTTP 200). */
  grpcStatus?: string;
  /** A flag and code on every one of these requests, as a proxy's own reply. */
  flags?: string;
  /** Where the flag is reported: the source sidecar only (its own reply: UH, UO, NR...), or both. */
  flagAt?: 'source' | 'both' | 'destination';
  /** Extra latency only the source measures (the network). */
  networkMs?: number;
}

export const fqdn = (name: string, ns: string) => `${name}.${ns}.svc.cluster.local`;

function rowsOfCall(c: Call, seconds: number): WindowRows {
  const out: WindowRows = { requests: [], buckets: [], durationSum: [], tcpOpened: [] };
  const ns = c.namespace ?? c.to?.namespace ?? c.from?.namespace ?? 'bookinfo';
  const host = c.external ? c.service : fqdn(c.service, ns);
  const flagAt = c.flags ? (c.flagAt ?? 'source') : undefined;
  const reporters: Array<'source' | 'destination'> = [];
  if (c.from) reporters.push('source');
  if (c.to && flagAt !== 'source') reporters.push('destination');
  for (const reporter of reporters) {
    const reportingPod = reporter === 'source' ? c.from! : c.to!;
    const base: Omit<SignalRow, 'code' | 'responseCode' | 'grpcStatus' | 'flags' | 'le' | 'value'> = {
      reporter,
      sourceWorkload: c.from?.workload ?? 'unknown',
      sourceNamespace: c.from?.namespace ?? 'unknown',
      sourceApp: c.from?.app ?? '',
      sourceVersion: '',
      sourceCanonical: c.from?.app ?? 'unknown',
      host,
      service: host,
      serviceName: c.service,
      serviceNamespace: c.to?.namespace ?? 'unknown',
      destinationWorkload: c.to?.workload ?? 'unknown',
      destinationNamespace: c.to?.namespace ?? 'unknown',
      destinationApp: c.to?.app ?? '',
      destinationCanonical: c.to?.app ?? 'unknown',
      destinationVersion: c.to?.version ?? 'unknown',
      protocol: 'http',
      securityPolicy: '',
      pod: reportingPod.pod,
      podNamespace: reportingPod.namespace,
    };
    const latency = c.ms + (reporter === 'source' ? (c.networkMs ?? 0) : 0);
    const parts: Array<{ code: string; flags: string; rps: number; grpcStatus?: string }> = [];
    // A flag made at the destination reaches the source as a plain answer with that code.
    if (c.flags) parts.push({ code: c.code ?? '503', flags: reporter === 'source' && flagAt === 'destination' ? '-' : c.flags, rps: c.rps });
    else {
      const e = c.errors ?? 0;
      if (e < 1) parts.push({ code: '200', flags: '-', rps: c.rps * (1 - e) });
      if (e > 0) parts.push({ code: c.code ?? '500', flags: '-', rps: c.rps * e, grpcStatus: c.grpcStatus });
    }
    for (const p of parts) out.requests.push({ ...base, code: p.code, responseCode: p.code, grpcStatus: p.grpcStatus ?? '', flags: p.flags, le: '', value: p.rps });
    out.durationSum.push({ ...base, code: '', responseCode: '', grpcStatus: '', flags: '', le: '', value: c.rps * latency });
    for (const le of [...ISTIO_BUCKETS, Infinity]) out.buckets.push({ ...base, code: '', responseCode: '', grpcStatus: '', flags: '', le: le === Infinity ? '+Inf' : String(le), value: le >= latency ? c.rps : 0 });
  }
  void seconds;
  return out;
}

function rowsOf(calls: readonly Call[], seconds: number): WindowRows {
  const out: WindowRows = { requests: [], buckets: [], durationSum: [], tcpOpened: [] };
  for (const c of calls) {
    const r = rowsOfCall(c, seconds);
    out.requests.push(...r.requests);
    out.buckets.push(...r.buckets);
    out.durationSum.push(...r.durationSum);
  }
  return out;
}

export interface Scenario {
  baseline: Call[];
  current: Call[];
  instances?: InstanceState[];
  externalHosts?: string[];
  extra?: Partial<SignalSnapshot>;
}

export function snapshotOf(s: Scenario): SignalSnapshot {
  const t = assembleTraffic(rowsOf(s.current, 10), rowsOf(s.baseline, 60), { current: CURRENT, baseline: BASELINE, externalHosts: new Set(s.externalHosts ?? []) });
  return {
    at: NOW, current: CURRENT, baseline: BASELINE, namespace: null, ...t,
    configChanges: [], instances: s.instances ?? [], outlierEvents: [], findings: [], traces: null, queries: [], notes: [],
    ...s.extra,
  };
}

/** Ready instances for every pod named in the calls. */
export function readyInstances(calls: readonly Call[]): InstanceState[] {
  const pods = new Map<string, Pod>();
  for (const c of calls) for (const p of [c.from, c.to]) if (p) pods.set(`${p.namespace}/${p.pod}`, p);
  return [...pods.values()].map((p) => ({ namespace: p.namespace, name: p.pod, workload: p.workload, service: p.app, version: p.version, ready: true, scrapeUp: true }));
}

// Bookinfo's call graph, healthy: productpage -> details, productpage -> reviews (v1, v2, v3),
// reviews v2/v3 -> ratings. `change` replaces calls by a predicate to build the faulty window.
export const PP = pod('productpage');
export const DETAILS = pod('details');
export const R1 = pod('reviews', 'v1');
export const R2 = pod('reviews', 'v2');
export const R3 = pod('reviews', 'v3');
export const RATINGS = pod('ratings');

export function bookinfo(o: { ratings?: Partial<Call>; reviews2?: Partial<Call>; reviewsAll?: Partial<Call>; details?: Partial<Call> } = {}): Call[] {
  const r2ratings: Call = { from: R2, service: 'ratings', to: RATINGS, rps: 3, ms: 2, ...o.ratings };
  const r3ratings: Call = { from: R3, service: 'ratings', to: RATINGS, rps: 3, ms: 2, ...o.ratings };
  // A reviews pod's latency includes its ratings call; its errors propagate ratings' errors.
  const reviewsOf = (p: Pod, ratings: Call | null, extra?: Partial<Call>): Call => ({
    from: PP, service: 'reviews', to: p, rps: 3, ms: 3 + (ratings ? ratings.ms + (ratings.networkMs ?? 0) : 0), errors: ratings ? (ratings.errors ?? 0) : 0, ...o.reviewsAll, ...extra,
  });
  const r1 = reviewsOf(R1, null);
  const r2 = reviewsOf(R2, r2ratings, o.reviews2);
  const r3 = reviewsOf(R3, r3ratings);
  const details: Call = { from: PP, service: 'details', to: DETAILS, rps: 9, ms: 2, ...o.details };
  const reviewsErrors = (r1.rps * (r1.errors ?? 0) + r2.rps * (r2.errors ?? 0) + r3.rps * (r3.errors ?? 0)) / 9;
  const reviewsMs = (r1.ms + r2.ms + r3.ms) / 3 + (o.reviewsAll?.networkMs ?? 0);
  const pp: Call = { from: null, service: 'productpage', to: PP, rps: 9, ms: 4 + details.ms + (details.networkMs ?? 0) + reviewsMs, errors: Math.min(1, reviewsErrors + (details.errors ?? 0)) };
  return [pp, details, r1, r2, r3, r2ratings, r3ratings];
}
