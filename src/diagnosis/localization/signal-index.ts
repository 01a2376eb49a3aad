import type { Edge, Entity, Features, InstanceState, SignalSnapshot } from '../signals/snapshot.js';

// Lookups over a SignalSnapshot that every generator needs: a service's workloads and
// instances, the edges out of a workload or an instance, the edges into a service, the
// registry state of an instance.

export class SignalIndex {
  readonly services = new Map<string, Entity>();
  readonly externals = new Map<string, Entity>();
  private readonly workloadsByHost = new Map<string, Entity[]>();
  private readonly instancesByHost = new Map<string, Entity[]>();
  private readonly outByWorkload = new Map<string, Edge[]>();
  private readonly outByInstance = new Map<string, Edge[]>();
  private readonly inByHost = new Map<string, Edge[]>();
  private readonly registry = new Map<string, InstanceState>();
  readonly currentSeconds: number;
  readonly baselineSeconds: number;

  constructor(readonly snapshot: SignalSnapshot) {
    this.currentSeconds = Math.max(1, (snapshot.current.endMs - snapshot.current.startMs) / 1000);
    this.baselineSeconds = Math.max(1, (snapshot.baseline.endMs - snapshot.baseline.startMs) / 1000);
    for (const e of snapshot.entities) {
      if (e.kind === 'service') this.services.set(e.host, e);
      else if (e.kind === 'external') this.externals.set(e.host, e);
      else if (e.kind === 'workload') push(this.workloadsByHost, e.host, e);
      else if (e.kind === 'instance') push(this.instancesByHost, e.host, e);
    }
    for (const e of snapshot.edges) {
      push(this.outByWorkload, `${e.sourceNamespace}/${e.sourceWorkload}`, e);
      push(this.inByHost, e.host, e);
    }
    for (const e of snapshot.instanceEdges) push(this.outByInstance, `${e.sourceNamespace}/${e.sourceInstance}`, e);
    for (const i of snapshot.instances) this.registry.set(`${i.namespace}/${i.name}`, i);
  }

  workloadsOf(host: string): Entity[] {
    return this.workloadsByHost.get(host) ?? [];
  }

  instancesOf(host: string, workload?: string): Entity[] {
    const all = this.instancesByHost.get(host) ?? [];
    return workload === undefined ? all : all.filter((i) => i.workload === workload);
  }

  /** Registry instances of a service (by `app` label) or of one workload, with or without traffic. */
  registryInstances(namespace: string, service: string, workload?: string): InstanceState[] {
    return this.snapshot.instances.filter((i) => i.namespace === namespace && i.service === service && (workload === undefined || i.workload === workload));
  }

  instanceState(namespace: string, name: string): InstanceState | undefined {
    return this.registry.get(`${namespace}/${name}`);
  }

  outEdgesOfWorkload(namespace: string, workload: string): Edge[] {
    return this.outByWorkload.get(`${namespace}/${workload}`) ?? [];
  }

  outEdgesOfInstance(namespace: string, instance: string): Edge[] {
    return this.outByInstance.get(`${namespace}/${instance}`) ?? [];
  }

  inEdges(host: string): Edge[] {
    return this.inByHost.get(host) ?? [];
  }

  /** The calls from a service's workloads to one callee (every protocol). */
  callsTo(host: string, callee: string): Edge[] {
    return this.workloadsOf(host).flatMap((w) => this.outEdgesOfWorkload(w.namespace, w.workload!)).filter((e) => e.host === callee);
  }

  /** The services a service calls (the call graph), by host. */
  calleesOf(host: string): string[] {
    const out = new Set<string>();
    for (const w of this.workloadsOf(host)) for (const e of this.outEdgesOfWorkload(w.namespace, w.workload!)) out.add(e.host);
    return [...out].sort();
  }

  /** The requests a reporter saw for a host in the current window, callers' view first (it includes the proxies' own replies). */
  callersView(host: string): Features | null {
    const e = this.services.get(host) ?? this.externals.get(host);
    return e?.current.source ?? e?.current.destination ?? null;
  }
}

function push<T>(m: Map<string, T[]>, k: string, v: T): void {
  let l = m.get(k);
  if (!l) m.set(k, (l = []));
  l.push(v);
}
