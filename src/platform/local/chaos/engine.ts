import { systemClock, type Clock } from '../../../proxy/clock.js';
import { pushFaults } from './desired-faults.js';
import { ChaosError } from './errors.js';
import { badAuthz } from './faults/authz-faults.js';
import type { ApplyContext, ChaosDeps, FaultRunner } from './faults/context.js';
import { badMtls } from './faults/mtls-faults.js';
import { badConfig, badVersion, externalOutage, poolExhaustion } from './faults/config-faults.js';
import { applicationFault, networkDelay } from './faults/in-process-faults.js';
import { crashInstance, hangInstance } from './faults/process-faults.js';
import { expectedCause, recordedTarget } from './ground-truth.js';
import { runRevert } from './revert.js';
import type { InjectionStore } from './store.js';
import { resolveTarget, type MeshView } from './targets.js';
import type { EdgeRef, FaultType, InjectRequest, Injection, TargetRef } from './types.js';

// Chaos in the mesh daemon: puts faults in force, records their ground truth, clears them on
// request or when their duration runs out, and puts in-process faults back into processes that
// restart meanwhile. One operation at a time (a queue), so two injections never edit the same
// config or process at once. The daemon clears everything still active when the mesh stops.

const RUNNERS: Record<FaultType, FaultRunner> = {
  'instance-crash': crashInstance,
  'instance-hang': hangInstance,
  latency: applicationFault,
  'error-rate': applicationFault,
  'cpu-burn': applicationFault,
  'network-delay': networkDelay,
  'bad-version': badVersion,
  'bad-config': badConfig,
  'external-outage': externalOutage,
  'pool-exhaustion': poolExhaustion,
  'bad-authz': badAuthz,
  'bad-mtls': badMtls,
};

/** What an injection holds exclusively: two injections holding the same thing would undo each other. */
function locksOf(type: FaultType, t: TargetRef | EdgeRef): string[] {
  if (t.kind === 'edge') return [];
  const key = `${t.name}.${t.namespace}`;
  switch (type) {
    case 'instance-crash':
    case 'instance-hang':
      return [`process:${key}`];
    case 'bad-version':
      return [`vs:${key}`, `dr:${key}`];
    case 'bad-config':
      return [`vs:${key}`];
    case 'pool-exhaustion':
      return [`dr:${key}`];
    case 'bad-authz':
      return [`authz:${key}`]; // one wrong policy per service at a time: two would blur the ground truth
    case 'bad-mtls':
      return [`dr:${key}`, `pa:${key}`];
    case 'external-outage':
      return [`host:${t.name}`];
    default:
      return [];
  }
}

export class ChaosEngine {
  private readonly active = new Map<string, Injection>();
  private readonly locks = new Map<string, string[]>();
  private readonly timers = new Map<string, unknown>();
  private queue: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly deps: ChaosDeps,
    private readonly store: InjectionStore,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Injections a previous daemon left active went with its mesh: recorded as abandoned. */
  start(): void {
    for (const inj of this.store.list({ active: true })) this.store.end(inj.id, 'abandoned', this.clock.now(), 'the mesh stopped before the injection was cleared');
  }

  meshView(): MeshView {
    return {
      instances: this.deps.processes.list().map((r) => ({ id: r.id, name: r.instance.name, namespace: r.instance.namespace, workload: r.instance.workload, service: r.spec.service, version: r.spec.version })),
      externalHosts: this.deps.standIns.hosts(),
    };
  }

  list(activeOnly = false): Injection[] {
    return this.store.list({ active: activeOnly });
  }

  inject(req: InjectRequest): Promise<Injection> {
    return this.serialized(() => this.doInject(req));
  }

  clear(id: string, state: 'cleared' | 'expired' = 'cleared', reason = 'cleared'): Promise<Injection> {
    return this.serialized(() => this.doClear(id, state, reason));
  }

  async clearAll(reason = 'cleared'): Promise<Injection[]> {
    const ids = [...this.active.keys()];
    return Promise.all(ids.map((id) => this.clear(id, 'cleared', reason)));
  }

  /** A supervised process started (again): give it back what it forgot. */
  onProcessStart(name: string): void {
    if (this.stopped) return;
    if (name === 'controlplane') return void this.retry(name, () => this.deps.processes.registerExtras());
    const [kind, id] = name.split('/', 2);
    const which = kind === 'app' ? { app: true } : kind === 'sidecar' ? { sidecar: true } : undefined;
    if (!which || !this.touches(id, kind === 'app' ? 'app-faults' : 'network-faults')) return;
    this.retry(name, () => pushFaults(this.deps.processes, this.deps.stateRoot, this.active.values(), id, which));
  }

  /** Clears every active injection (the mesh is stopping) and stops taking new ones. */
  async shutdown(): Promise<void> {
    this.stopped = true; // no new injection from here on; clearing still runs
    await this.clearAll('the mesh stopped');
    for (const t of this.timers.values()) this.clock.clearTimeout(t);
    this.timers.clear();
  }

  private async doInject(req: InjectRequest): Promise<Injection> {
    if (this.stopped) throw new ChaosError('E_CHAOS_FAILED', 'the mesh is stopping');
    const mesh = this.meshView();
    const target = resolveTarget(req.type, req.target, req.namespace, mesh);
    const locks = locksOf(req.type, target);
    for (const [other, held] of this.locks) {
      const clash = held.find((l) => locks.includes(l));
      if (clash) throw new ChaosError('E_CHAOS_CONFLICT', `injection ${other} (${this.active.get(other)?.type}) already holds ${clash.split(':')[1]}; clear it first`);
    }
    const now = this.clock.now();
    const inj: Injection = {
      id: this.store.nextId(), type: req.type, target, params: req.params, expectedCause: expectedCause(req.type, target, req.params),
      state: 'active', startedAt: now, endsAt: now + req.durationMs, effects: {}, revert: [],
    };
    const ctx: ApplyContext = {
      id: inj.id, type: req.type, target, params: req.params, mesh, deps: this.deps, revert: inj.revert, effects: inj.effects,
      pushFaults: (ids, which) => this.push(ids, which, [...this.active.values(), inj]),
    };
    try {
      const result = await RUNNERS[req.type](ctx);
      if (result?.config) {
        inj.target = recordedTarget(req.type, target, result.config);
        inj.expectedCause = expectedCause(req.type, target, req.params, result.config);
      }
    } catch (e) {
      const errors = await runRevert(inj.revert, this.deps, (ids, which) => this.push(ids, which, [...this.active.values()]));
      if (e instanceof ChaosError && errors.length === 0) throw e;
      const undo = errors.length ? `undoing it failed too: ${errors.join('; ')}` : 'what was done is undone';
      throw new ChaosError(e instanceof ChaosError ? e.code : 'E_CHAOS_FAILED', `${req.type} could not be put in force: ${(e as Error).message}; ${undo}`);
    }
    // The fault is in force from now (a bad version takes seconds to start): that is the ground truth's start.
    inj.startedAt = this.clock.now();
    inj.endsAt = inj.startedAt + req.durationMs;
    this.active.set(inj.id, inj);
    this.locks.set(inj.id, locks);
    this.store.insert(inj);
    this.timers.set(inj.id, this.clock.setTimeout(() => void this.clear(inj.id, 'expired', 'its duration ran out').catch((e: Error) => this.deps.log(`chaos ${inj.id}: expiry failed: ${e.message}`)), req.durationMs));
    this.deps.log(`chaos ${inj.id}: ${inj.type} on ${inj.expectedCause.label}, in force for ${req.durationMs / 1000} s`);
    return inj;
  }

  private async doClear(id: string, state: 'cleared' | 'expired', reason: string): Promise<Injection> {
    const inj = this.active.get(id);
    if (!inj) {
      const past = this.store.get(id);
      if (past) return past; // already ended: clearing again changes nothing
      throw new ChaosError('E_CHAOS_NOT_FOUND', `no injection ${id} (see: meshmedic chaos list)`);
    }
    this.active.delete(id);
    this.locks.delete(id);
    this.clock.clearTimeout(this.timers.get(id));
    this.timers.delete(id);
    const errors = await runRevert(inj.revert, this.deps, (ids, which) => this.push(ids, which, [...this.active.values()]));
    const why = errors.length ? `${reason}; not everything could be undone: ${errors.join('; ')}` : reason;
    this.store.end(id, state, this.clock.now(), why);
    this.deps.log(`chaos ${id}: ${state} (${why})`);
    return this.store.get(id)!;
  }

  private async push(ids: string[], which: { app?: boolean; sidecar?: boolean }, active: Injection[]): Promise<void> {
    await Promise.all(ids.map((id) => pushFaults(this.deps.processes, this.deps.stateRoot, active, id, which)));
  }

  private touches(instanceId: string, op: 'app-faults' | 'network-faults'): boolean {
    for (const inj of this.active.values()) if (inj.revert.some((s) => s.op === op && s.instances.includes(instanceId))) return true;
    return false;
  }

  /** Retries until the restarted process answers (it needs a moment to listen), for up to 30 s. */
  private retry(what: string, attempt: () => Promise<void>): void {
    const deadline = this.clock.now() + 30_000;
    const once = () =>
      attempt().catch((e: Error) => {
        if (this.stopped || this.clock.now() > deadline) return this.deps.log(`chaos: could not restore faults of ${what}: ${e.message}`);
        this.clock.setTimeout(once, 200);
      });
    void once();
  }

  private serialized<T>(op: () => Promise<T>): Promise<T> {
    const next = this.queue.then(op, op);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
