import { FAULT_TYPES, type FaultType } from '../src/platform/local/chaos/types.js';
import { callsOf, type Topology, type TopologyService } from '../src/platform/local/topology/model.js';
import { seededRng, type Rng } from '../src/platform/local/workload/random.js';

// The fault scenarios of the live diagnosis benchmark (`meshmedic bench diagnosis`), worked out
// from a topology alone, and the summary maths. Pure functions, so the sequence a seed gives and
// the figures a run reports can be checked without a mesh.
//
// What a topology can host: a fault must touch requests the load sends, or nothing can detect it.
// A target counts only if it serves (or, for an edge or an external host, carries) at least
// MIN_RPS. The benchmark reads those rates from the running mesh (`measuredRates`: Istio's
// metrics after the warm-up), so routing config counts too (Bookinfo's VirtualService sends
// reviews v2 only the requests of user jason: none of the benchmark's). `modelRates` estimates
// them from the topology alone (every call's probability and every version's share of its
// service by replicas carry the entry rate down the call graph), for tests and for the
// generator. TCP services are left out (their latency is
// not measured and their failures are the calling edge's: docs/diagnosis.md, Limits). Faults that
// act in the callers' sidecars (bad-version, bad-config, pool-exhaustion: routes, subsets and
// pools are outbound config) need a caller in the mesh, so a service only the load calls cannot
// host them. A network delay on an instance needs two destinations or more: with one, it is the
// delay of that one edge, and the two answers cannot be told apart.

/** Requests a second a target must get for its fault to be seen (at least 10 in a 5 s window). */
export const MIN_RPS = 2;

export interface ScenarioTarget {
  /** As `chaos inject -t` takes it: `service/x`, `workload/x-v1`, `instance/x-v1-0`, `a->b`, `host/h`. */
  target: string;
  /** Expected requests a second the fault touches (from the topology and the load). */
  rps: number;
}

export type ScenarioSpace = Partial<Record<FaultType, ScenarioTarget[]>>;

/** Requests a second: served by a service, workload or instance, carried by an edge or sent to an external host. */
export interface Rates {
  service(name: string, namespace: string): number;
  workload(name: string, namespace: string): number;
  instance(name: string, namespace: string): number;
  edge(sourceWorkload: string, service: string, namespace: string): number;
  external(host: string): number;
}

export interface Scenario {
  index: number;
  fault: FaultType;
  target: string;
  namespace: string;
  /** `chaos inject` flags, as the CLI takes them (`--delay 200ms`). */
  args: string[];
  params: Record<string, string>;
}

interface Flow {
  service: TopologyService;
  rps: number;
}

const isTcp = (s: TopologyService) => s.ports.every((p) => p.protocol === 'tcp');
/** Mutual TLS is enforced on HTTP/1.1 ports only (docs/security.md): bad-mtls needs one. */
const hasHttp1 = (s: TopologyService) => s.ports.some((p) => p.protocol === 'http');
const key = (name: string, ns: string) => `${name}.${ns}`;

/** Instances the mesh starts for a topology: `<service>-<version>-<i>`. */
export function instancesOf(s: TopologyService): Array<{ name: string; workload: string; share: number }> {
  const total = s.versions.reduce((a, v) => a + v.replicas, 0);
  return s.versions.flatMap((v) => Array.from({ length: v.replicas }, (_, i) => ({ name: `${s.name}-${v.name}-${i}`, workload: `${s.name}-${v.name}`, share: 1 / total })));
}

/**
 * Requests a second each service receives when `entryRps` enter (split evenly over the entry
 * services), each workload's share of them, and each edge's rate. The graph is a DAG in every
 * topology we ship; a cycle is cut after 50 rounds.
 */
export function trafficOf(t: Topology, entryRps: number) {
  const services = new Map(t.services.map((s) => [key(s.name, s.namespace), s]));
  const entries = t.services.filter((s) => s.isEntrypoint);
  const serviceRps = new Map<string, number>();
  const edgeRps = new Map<string, number>(); // `source workload|dest service key`
  const externalRps = new Map<string, number>(); // host -> rps
  let frontier: Flow[] = entries.map((s) => ({ service: s, rps: entryRps / Math.max(1, entries.length) }));
  for (let round = 0; round < 50 && frontier.length; round++) {
    const next: Flow[] = [];
    for (const f of frontier) {
      const k = key(f.service.name, f.service.namespace);
      serviceRps.set(k, (serviceRps.get(k) ?? 0) + f.rps);
      const total = f.service.versions.reduce((a, v) => a + v.replicas, 0);
      for (const v of f.service.versions) {
        const vRps = (f.rps * v.replicas) / total;
        for (const c of callsOf(v.behaviour)) {
          const r = vRps * c.probability;
          const callee = services.get(key(c.service, c.namespace));
          const host = c.hostname?.replace(/:\d+$/, '').toLowerCase();
          if (host && !isMeshHost(host, t)) {
            externalRps.set(host, (externalRps.get(host) ?? 0) + r);
            continue;
          }
          if (!callee) continue;
          const ek = `${f.service.name}-${v.name}|${key(callee.name, callee.namespace)}`;
          edgeRps.set(ek, (edgeRps.get(ek) ?? 0) + r);
          next.push({ service: callee, rps: r });
        }
      }
    }
    frontier = next;
  }
  return { serviceRps, edgeRps, externalRps };
}

/** A call's `hostname` that names a service of the topology is no external host. */
function isMeshHost(host: string, t: Topology): boolean {
  return t.services.some((s) => host === s.name || host.startsWith(`${s.name}.${s.namespace}`));
}

/** External hosts the topology calls (each needs a stand-in), with the port callers dial. */
export function externalHostsOf(t: Topology): Array<{ host: string; port: number; namespace: string }> {
  const out = new Map<string, { host: string; port: number; namespace: string }>();
  for (const s of t.services)
    for (const v of s.versions)
      for (const c of callsOf(v.behaviour)) {
        if (!c.hostname) continue;
        const [h, p] = c.hostname.toLowerCase().split(':');
        if (!isMeshHost(h, t) && !out.has(h)) out.set(h, { host: h, port: p ? Number(p) : 80, namespace: s.namespace });
      }
  return [...out.values()];
}

/** Rates from the topology alone, `entryRps` entering at the entry services (see above). */
export function modelRates(t: Topology, entryRps: number): Rates {
  const { serviceRps, edgeRps, externalRps } = trafficOf(t, entryRps);
  const svc = (name: string, ns: string) => serviceRps.get(key(name, ns)) ?? 0;
  const byName = (ns: string, pred: (i: { name: string; workload: string }) => boolean) => {
    let r = 0;
    for (const s of t.services.filter((x) => x.namespace === ns)) for (const i of instancesOf(s)) if (pred(i)) r += svc(s.name, ns) * i.share;
    return r;
  };
  return {
    service: svc,
    workload: (name, ns) => byName(ns, (i) => i.workload === name),
    instance: (name, ns) => byName(ns, (i) => i.name === name),
    edge: (w, service, ns) => edgeRps.get(`${w}|${key(service, ns)}`) ?? 0,
    external: (host) => externalRps.get(host) ?? 0,
  };
}

/** One series of a Prometheus instant query's answer. */
export interface RateSample {
  labels: Record<string, string>;
  value: number;
}

/**
 * Rates as the mesh measured them: `destination` from
 * `sum by (pod, namespace, destination_workload, destination_service_name) (rate(istio_requests_total{reporter="destination"}[W]))`,
 * `source` from `sum by (source_workload, source_workload_namespace, destination_service_name, destination_service_namespace, destination_service) (rate(istio_requests_total{reporter="source"}[W]))`.
 */
export function measuredRates(destination: readonly RateSample[], source: readonly RateSample[]): Rates {
  const sum = (rows: readonly RateSample[], pred: (l: Record<string, string>) => boolean) => rows.reduce((a, r) => a + (pred(r.labels) ? r.value : 0), 0);
  return {
    service: (name, ns) => sum(destination, (l) => l.destination_service_name === name && l.namespace === ns),
    workload: (name, ns) => sum(destination, (l) => l.destination_workload === name && l.namespace === ns),
    instance: (name, ns) => sum(destination, (l) => l.pod === name && l.namespace === ns),
    edge: (w, service, ns) => sum(source, (l) => l.source_workload === w && l.destination_service_name === service && l.destination_service_namespace === ns),
    external: (host) => sum(source, (l) => l.destination_service === host || l.destination_service_name === host),
  };
}

/** Every fault type the topology can host, with its valid targets (empty types left out). */
export function scenarioSpace(t: Topology, rates: Rates): ScenarioSpace {
  const space: Record<FaultType, ScenarioTarget[]> = Object.fromEntries(FAULT_TYPES.map((f) => [f, []])) as unknown as Record<FaultType, ScenarioTarget[]>;
  const add = (f: FaultType, target: string, r: number) => r >= MIN_RPS && space[f].push({ target, rps: r });
  // Services some service of the mesh calls (their callers' sidecars apply routes, subsets and pools).
  const calledInMesh = new Set<string>();
  for (const s of t.services) for (const v of s.versions) for (const c of callsOf(v.behaviour)) if (!c.hostname || isMeshHost(c.hostname.replace(/:\d+$/, '').toLowerCase(), t)) calledInMesh.add(key(c.service, c.namespace));
  for (const s of t.services) {
    if (isTcp(s)) continue;
    const ns = s.namespace;
    const instances = instancesOf(s);
    for (const i of instances) {
      const r = rates.instance(i.name, ns);
      for (const f of ['instance-crash', 'instance-hang'] as const) add(f, `instance/${i.name}`, r);
      // An application fault on a service's only instance is the service's: named once, as the service.
      if (instances.length > 1) for (const f of ['latency', 'error-rate', 'cpu-burn'] as const) add(f, `instance/${i.name}`, r);
      const v = s.versions.find((x) => i.workload === `${s.name}-${x.name}`)!;
      const destinations = new Set(callsOf(v.behaviour).map((c) => c.hostname ?? key(c.service, c.namespace)));
      if (destinations.size >= 2) add('network-delay', `instance/${i.name}`, r);
    }
    // A workload that is the service's only one is the service: named once, as a service.
    if (s.versions.length > 1) for (const v of s.versions) for (const f of ['latency', 'error-rate', 'cpu-burn'] as const) add(f, `workload/${s.name}-${v.name}`, rates.workload(`${s.name}-${v.name}`, ns));
    const r = rates.service(s.name, ns);
    for (const f of ['latency', 'error-rate', 'cpu-burn'] as const) add(f, `service/${s.name}`, r);
    // A wrong AuthorizationPolicy acts in the service's own sidecars: any caller is refused.
    add('bad-authz', `service/${s.name}`, r);
    // bad-mtls too: a caller without a sidecar (the load) sees resets no metric reports.
    if (calledInMesh.has(key(s.name, ns))) for (const f of ['bad-version', 'bad-config', 'pool-exhaustion'] as const) add(f, `service/${s.name}`, r);
    if (calledInMesh.has(key(s.name, ns)) && hasHttp1(s)) add('bad-mtls', `service/${s.name}`, r);
  }
  // Edges: every call of the topology from a workload to a service (not TCP, not an external host).
  const edges = new Set<string>();
  for (const s of t.services)
    for (const v of s.versions)
      for (const c of callsOf(v.behaviour)) {
        const callee = t.services.find((x) => x.name === c.service && x.namespace === c.namespace);
        if (!callee || isTcp(callee) || (c.hostname && !isMeshHost(c.hostname.replace(/:\d+$/, '').toLowerCase(), t))) continue;
        const w = `${s.name}-${v.name}`;
        const k = `${w}|${callee.name}|${callee.namespace}`;
        if (edges.has(k)) continue;
        edges.add(k);
        add('network-delay', `workload/${w}->${callee.name}`, rates.edge(w, callee.name, callee.namespace));
      }
  for (const h of externalHostsOf(t)) add('external-outage', `host/${h.host}`, rates.external(h.host));
  for (const f of FAULT_TYPES) if (space[f].length === 0) delete space[f];
  return space;
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];

/** The flags of one fault, drawn from ranges a real incident has (delays of 100-300 ms, error shares of 50-100%). */
function paramsFor(fault: FaultType, rng: Rng): Record<string, string> {
  switch (fault) {
    case 'latency':
    case 'network-delay':
      return { delay: `${pick(rng, [100, 150, 200, 250, 300])}ms` };
    case 'error-rate':
      return { percent: String(pick(rng, [50, 75, 100])) };
    case 'bad-config':
      return { mode: pick(rng, ['missing-subset', 'wrong-host']) };
    case 'bad-authz':
      return { mode: pick(rng, ['allow-nobody', 'deny-all']) };
    case 'bad-mtls':
      return { mode: pick(rng, ['strict', 'disable']) };
    case 'external-outage':
      return { mode: pick(rng, ['refuse', 'hang', 'error']) };
    default:
      return {};
  }
}

const FLAG: Record<string, string> = { delay: '--delay', percent: '--percent', mode: '--mode' };

/**
 * N scenarios from a seed: fault types in shuffled rounds over every type the topology can host
 * (so N >= the number of types covers each, and the mix stays even), each with a random valid
 * target and random parameters. The same space, N and seed give the same sequence.
 */
export function generateScenarios(space: ScenarioSpace, namespaceOf: (target: string) => string, n: number, seed: number): Scenario[] {
  const rng = seededRng(seed);
  const types = FAULT_TYPES.filter((f) => space[f]?.length);
  if (types.length === 0) return [];
  const out: Scenario[] = [];
  let round: FaultType[] = [];
  for (let i = 0; i < n; i++) {
    if (round.length === 0) round = shuffle([...types], rng);
    const fault = round.shift()!;
    const { target } = pick(rng, space[fault]!);
    const params = paramsFor(fault, rng);
    const args = Object.entries(params).flatMap(([k, v]) => [FLAG[k], v]);
    out.push({ index: i + 1, fault, target, namespace: namespaceOf(target), args, params });
  }
  return out;
}

function shuffle<T>(xs: T[], rng: Rng): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

/** One scenario's outcome, as the benchmark prints it. */
export interface ScenarioResult {
  fault: FaultType;
  target: string;
  /** Injection in force -> the first incident opened after it; null when none opened. */
  detectedMs: number | null;
  top3: string[];
  correct1: boolean;
  correct3: boolean;
  /** When chaos recorded the fault in force (ISO time), to find it in the mesh's incidents and logs. */
  injectedAt?: string;
  /** Set when chaos could not put the fault in force (a busy control plane): no diagnosis to score. */
  notInjected?: string;
}

/** The value below which `q` of the sorted values lie (nearest rank), or null for none. */
export function percentile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

const round4 = (x: number) => Math.round(x * 10000) / 10000;

function figures(all: readonly ScenarioResult[]) {
  // A fault that was never in force says nothing of diagnosis: counted apart, scored nowhere.
  const rs = all.filter((r) => r.notInjected === undefined);
  const detected = rs.filter((r) => r.detectedMs !== null).map((r) => r.detectedMs!);
  return {
    scenarios: rs.length,
    ...(all.length > rs.length && { notInjected: all.length - rs.length }),
    detected: detected.length,
    // A fault nothing detected has no top cause: it counts as a miss at every k.
    ac1: rs.length ? round4(rs.filter((r) => r.correct1).length / rs.length) : null,
    ac3: rs.length ? round4(rs.filter((r) => r.correct3).length / rs.length) : null,
    mttdP50Ms: percentile(detected, 0.5),
    mttdP95Ms: percentile(detected, 0.95),
  };
}

/** AC@1, AC@3 and MTTD (nearest-rank p50/p95 over the detected faults), overall and per fault type. */
export function summarize(rs: readonly ScenarioResult[]) {
  const types = [...new Set(rs.map((r) => r.fault))].sort();
  return { ...figures(rs), byFault: Object.fromEntries(types.map((t) => [t, figures(rs.filter((r) => r.fault === t))])) };
}
