import type { RankedCause } from './model.js';

// Whether a ranked cause names the culprit a fault was injected into (chaos's ground truth, or
// a dataset's label), for tests and benchmarks. The culprit is what is compared, not how it
// failed. Where the mesh cannot tell two answers apart they are the same answer: a workload with
// one instance is that instance, a service with one workload is that workload (and with one
// instance, that instance), so "version v2 of reviews" is right for a fault on the single
// instance reviews-v2-0 and the other way round.

export type ExpectedRef =
  | { kind: 'service' | 'workload' | 'instance' | 'external'; namespace: string; name: string }
  | { kind: 'edge'; source: { kind: string; namespace: string; name: string }; destination: { kind: string; namespace: string; name: string } }
  | { kind: 'config'; resource: { kind: string; namespace: string; name: string }; version?: number };

/** The culprit, and other names of the same fault that are as right (chaos's `alsoRight`). */
export type Expected = ExpectedRef & { alsoRight?: readonly ExpectedRef[] };

/** Which instances run: to tell when two answers are the same thing. */
export interface TopologyView {
  instances: ReadonlyArray<{ namespace: string; name: string; workload: string; service: string }>;
}

interface Culprit {
  service?: string;
  workload?: string;
  instance?: string;
}

export function causeMatches(cause: RankedCause, expected: Expected, topo: TopologyView): boolean {
  return matchesRef(cause, expected, topo) || (expected.alsoRight ?? []).some((e) => matchesRef(cause, e, topo));
}

function matchesRef(cause: RankedCause, expected: ExpectedRef, topo: TopologyView): boolean {
  const t = cause.target;
  if (expected.kind === 'external') return t.kind === 'external' && t.host === expected.name;
  if (expected.kind === 'config') {
    const r = t.resource;
    return (t.kind === 'config-change' || t.kind === 'security-policy') && !!r && r.kind === expected.resource.kind && r.namespace === expected.resource.namespace && r.name === expected.resource.name && (expected.version === undefined || r.configVersion === undefined || r.configVersion === expected.version);
  }
  if (expected.kind === 'edge') {
    if (t.kind !== 'edge' || t.namespace !== expected.destination.namespace || t.service !== expected.destination.name) return false;
    const src = expected.source;
    const sources = new Set([t.sourceService, t.source].filter(Boolean) as string[]);
    if (sources.has(src.name)) return true;
    // A calling service named by its only workload, or the other way round.
    const workloads = workloadsOf(topo, src.namespace, src.kind === 'service' ? src.name : serviceOfWorkload(topo, src.namespace, src.name) ?? '');
    return src.kind === 'service' ? workloads.length === 1 && sources.has(workloads[0]) : !!t.sourceService && workloads.length === 1 && t.sourceService === serviceOfWorkload(topo, src.namespace, src.name);
  }
  if (!['service', 'version', 'instance', 'overload'].includes(t.kind) || t.namespace !== expected.namespace) return false;
  const got: Culprit = t.kind === 'instance' ? { instance: t.instance } : t.kind === 'version' ? { workload: t.workload } : { service: t.service };
  return aliases(topo, expected.namespace, expectedCulprit(expected)).some((a) => same(a, got));
}

/** The rank (1-based) of the first cause that matches, or 0. */
export function matchRank(causes: readonly RankedCause[], expected: Expected, topo: TopologyView): number {
  const i = causes.findIndex((c) => causeMatches(c, expected, topo));
  return i + 1;
}

function expectedCulprit(e: { kind: string; name: string }): Culprit {
  return e.kind === 'instance' ? { instance: e.name } : e.kind === 'workload' ? { workload: e.name } : { service: e.name };
}

function same(a: Culprit, b: Culprit): boolean {
  return (a.instance !== undefined && a.instance === b.instance) || (a.workload !== undefined && a.workload === b.workload) || (a.service !== undefined && a.service === b.service);
}

/** Every name the same culprit has: up to its service while it is alone there, down to its instance while it has one. */
function aliases(topo: TopologyView, ns: string, c: Culprit): Culprit[] {
  const out: Culprit[] = [c];
  const inst = topo.instances.filter((i) => i.namespace === ns);
  if (c.instance) {
    const me = inst.find((i) => i.name === c.instance);
    if (me && inst.filter((i) => i.workload === me.workload).length === 1) out.push({ workload: me.workload });
    if (me && inst.filter((i) => i.service === me.service).length === 1) out.push({ service: me.service });
  }
  if (c.workload) {
    const mine = inst.filter((i) => i.workload === c.workload);
    if (mine.length === 1) out.push({ instance: mine[0].name });
    const svc = mine[0]?.service;
    if (svc && new Set(inst.filter((i) => i.service === svc).map((i) => i.workload)).size === 1) out.push({ service: svc });
  }
  if (c.service) {
    const mine = inst.filter((i) => i.service === c.service);
    const workloads = [...new Set(mine.map((i) => i.workload))];
    if (workloads.length === 1) out.push({ workload: workloads[0] });
    if (mine.length === 1) out.push({ instance: mine[0].name });
  }
  return out;
}

function workloadsOf(topo: TopologyView, ns: string, service: string): string[] {
  return [...new Set(topo.instances.filter((i) => i.namespace === ns && i.service === service).map((i) => i.workload))];
}

function serviceOfWorkload(topo: TopologyView, ns: string, workload: string): string | undefined {
  return topo.instances.find((i) => i.namespace === ns && i.workload === workload)?.service;
}
