import type { KindId } from '../api/kinds.js';
import { namespaceOf, resourceKey, type Resource } from '../api/resource.js';

// The config store: typed (resources by kind), versioned (every change bumps a version and
// keeps the previous state, so a change can be reverted and the timeline read by diagnosis)
// and watchable (the control plane subscribes and pushes snapshots).

export type ChangeType = 'added' | 'updated' | 'deleted';

export interface Change {
  version: number;
  type: ChangeType;
  key: string;
  resource: Resource; // the new state, or the deleted one
  previous?: Resource;
  at: number; // ms since epoch, from the injected clock
}

export type Watcher = (changes: readonly Change[], version: number) => void;

export class ConfigStore {
  private readonly byKey = new Map<string, Resource>();
  private readonly history: Change[] = [];
  private readonly watchers = new Set<Watcher>();
  private currentVersion = 0;

  constructor(private readonly now: () => number = Date.now, private readonly historyLimit = 10_000) {}

  get version(): number {
    return this.currentVersion;
  }

  list<S = any>(kind: KindId, namespace?: string): Resource<S>[] {
    const out: Resource<S>[] = [];
    for (const r of this.byKey.values()) if (r.info.id === kind && (namespace === undefined || namespaceOf(r) === namespace)) out.push(r);
    return out.sort(compareResources);
  }

  all(): Resource[] {
    return [...this.byKey.values()].sort(compareResources);
  }

  get<S = any>(kind: KindId, namespace: string, name: string): Resource<S> | undefined {
    return this.byKey.get(`${kind}/${namespace}/${name}`);
  }

  /** Apply a set of resources as one version (all or nothing: callers validate first). */
  apply(resources: readonly Resource[]): number {
    return this.commit(resources.map((r) => ({ put: r })));
  }

  delete(kind: KindId, namespace: string, name: string): number {
    const r = this.get(kind, namespace, name);
    return r ? this.commit([{ del: r }]) : this.currentVersion;
  }

  /** Changes after `sinceVersion`, oldest first. */
  changesSince(sinceVersion: number): Change[] {
    return this.history.filter((c) => c.version > sinceVersion);
  }

  watch(w: Watcher): () => void {
    this.watchers.add(w);
    return () => this.watchers.delete(w);
  }

  private commit(ops: Array<{ put?: Resource; del?: Resource }>): number {
    const version = this.currentVersion + 1;
    const at = this.now();
    const changes: Change[] = [];
    for (const op of ops) {
      if (op.put) {
        const key = resourceKey(op.put);
        const previous = this.byKey.get(key);
        this.byKey.set(key, op.put);
        changes.push({ version, type: previous ? 'updated' : 'added', key, resource: op.put, previous, at });
      } else if (op.del) {
        const key = resourceKey(op.del);
        this.byKey.delete(key);
        changes.push({ version, type: 'deleted', key, resource: op.del, previous: op.del, at });
      }
    }
    if (changes.length === 0) return this.currentVersion;
    this.currentVersion = version;
    this.history.push(...changes);
    if (this.history.length > this.historyLimit) this.history.splice(0, this.history.length - this.historyLimit);
    for (const w of this.watchers) w(changes, version);
    return version;
  }
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Kind, then namespace, then name; byte order, so the order is the same everywhere. */
export function compareResources(a: Resource, b: Resource): number {
  return cmp(a.info.id, b.info.id) || cmp(namespaceOf(a), namespaceOf(b)) || cmp(a.metadata.name, b.metadata.name);
}
