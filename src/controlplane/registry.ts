import type { WorkloadInstance } from '../api/snapshot.js';
import type { ConfigStore } from '../config/store.js';
import { canonicalJson } from './canonical.js';
import { fromKubernetesService, fromServiceEntry, type MeshService } from './services.js';
import { instanceFromWorkloadEntry } from './workload-entries.js';

// The service registry: which workload instances run (told by the supervisor or by `register`,
// plus WorkloadEntries from the config store) and which services select them (Kubernetes
// Services and ServiceEntries from the config store). Watchable: the control plane recomputes
// snapshots when anything here changes.

export type RegistryWatcher = () => void;

/** A proxy's node id: `<instance>.<namespace>`. */
export function nodeIdOf(inst: { name: string; namespace: string }): string {
  return `${inst.name}.${inst.namespace}`;
}

export class RegistryError extends Error {
  constructor(readonly code: 'E_INSTANCE_INVALID', message: string) {
    super(message);
    this.name = 'RegistryError';
  }
}

const key = (namespace: string, name: string) => `${namespace}/${name}`;

export class ServiceRegistry {
  private readonly registered = new Map<string, WorkloadInstance>();
  private readonly watchers = new Set<RegistryWatcher>();
  private servicesCache?: MeshService[];
  private entriesCache?: Map<string, WorkloadInstance>;
  private readonly unwatchStore: () => void;
  private changes = 0;

  constructor(private readonly store: ConfigStore) {
    this.unwatchStore = store.watch((changes) => {
      let changed = false;
      for (const c of changes) {
        const kind = c.resource.info.id;
        if (kind === 'Service' || kind === 'ServiceEntry') (this.servicesCache = undefined), (changed = true);
        if (kind === 'WorkloadEntry') (this.entriesCache = undefined), (changed = true);
      }
      if (changed) this.emit();
    });
  }

  /** Counts changes; moves whenever a watcher is told. */
  get version(): number {
    return this.changes;
  }

  /** Add or replace a running instance. Telling the same thing twice changes nothing. */
  upsert(instance: WorkloadInstance): void {
    checkInstance(instance);
    const k = key(instance.namespace, instance.name);
    const copy = structuredClone(instance);
    const prev = this.registered.get(k);
    if (prev && canonicalJson(prev) === canonicalJson(copy)) return;
    this.registered.set(k, copy);
    this.emit();
  }

  remove(namespace: string, name: string): boolean {
    if (!this.registered.delete(key(namespace, name))) return false;
    this.emit();
    return true;
  }

  /** Mark an instance up or down (its process exited, or came back). */
  setHealthy(namespace: string, name: string, healthy: boolean): boolean {
    const inst = this.registered.get(key(namespace, name));
    if (!inst) return false;
    if (inst.healthy !== healthy) {
      inst.healthy = healthy;
      this.emit();
    }
    return true;
  }

  /** Every instance, sorted by namespace then name. A registered instance hides a WorkloadEntry of the same name. */
  instances(): WorkloadInstance[] {
    const all = new Map(this.workloadEntries());
    for (const [k, v] of this.registered) all.set(k, v);
    return [...all.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
  }

  instance(namespace: string, name: string): WorkloadInstance | undefined {
    return this.registered.get(key(namespace, name)) ?? this.workloadEntries().get(key(namespace, name));
  }

  /** Services from Kubernetes Services and ServiceEntries, sorted by hostname then namespace. */
  services(): MeshService[] {
    if (!this.servicesCache) {
      const out = [
        ...this.store.list('Service').map(fromKubernetesService),
        ...this.store.list('ServiceEntry').flatMap(fromServiceEntry),
      ];
      this.servicesCache = out.sort((a, b) => cmp(a.hostname, b.hostname) || cmp(a.namespace, b.namespace));
    }
    return this.servicesCache;
  }

  watch(w: RegistryWatcher): () => void {
    this.watchers.add(w);
    return () => this.watchers.delete(w);
  }

  close(): void {
    this.unwatchStore();
    this.watchers.clear();
  }

  private workloadEntries(): Map<string, WorkloadInstance> {
    if (!this.entriesCache) {
      this.entriesCache = new Map();
      for (const r of this.store.list('WorkloadEntry')) {
        const inst = instanceFromWorkloadEntry(r);
        if (inst) this.entriesCache.set(key(inst.namespace, inst.name), inst);
      }
    }
    return this.entriesCache;
  }

  private emit(): void {
    this.changes++;
    for (const w of this.watchers) w();
  }
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const DNS_LABEL = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** What a caller (supervisor, `register`) can get wrong about an instance. */
function checkInstance(i: WorkloadInstance): void {
  const bad = (m: string) => {
    throw new RegistryError('E_INSTANCE_INVALID', `workload instance ${i?.namespace ?? '?'}/${i?.name ?? '?'}: ${m}`);
  };
  if (!i || typeof i !== 'object') bad('not an object');
  if (typeof i.name !== 'string' || !DNS_LABEL.test(i.name)) bad('name must be a lower-case DNS name');
  if (typeof i.namespace !== 'string' || !DNS_LABEL.test(i.namespace)) bad('namespace must be a lower-case DNS name');
  if (typeof i.address !== 'string') bad('address is required');
  if (!i.labels || typeof i.labels !== 'object') bad('labels are required');
  if (!Array.isArray(i.ports)) bad('ports must be a list');
  for (const p of i.ports) {
    if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) bad(`port ${p.port} is not in 1..65535`);
    if (!p.app || (!('socketPath' in p.app) && !('host' in p.app))) bad(`port ${p.port} has no app endpoint`);
  }
}
