import type { WorkloadInstance } from '../api/snapshot.js';

// Instances recovery has taken out of load balancing. The control plane reports them unhealthy
// in every endpoint set it sends (its translation reads this set), whatever the readiness probe
// says: a probe that sees the instance answer again must not put it back, only lifting the
// quarantine does. The instance itself keeps its sidecar and its own config.

export class QuarantineSet {
  private readonly held = new Set<string>();
  private readonly watchers = new Set<() => void>();

  has(namespace: string, name: string): boolean {
    return this.held.has(`${namespace}/${name}`);
  }

  set(namespace: string, name: string, on: boolean): boolean {
    const k = `${namespace}/${name}`;
    if (on === this.held.has(k)) return false;
    if (on) this.held.add(k);
    else this.held.delete(k);
    for (const w of this.watchers) w();
    return true;
  }

  list(): Array<{ namespace: string; name: string }> {
    return [...this.held].sort().map((k) => {
      const [namespace, name] = k.split('/');
      return { namespace, name };
    });
  }

  /** The instances as load balancing must see them. */
  apply(instances: WorkloadInstance[]): WorkloadInstance[] {
    if (this.held.size === 0) return instances;
    return instances.map((i) => (i.healthy && this.has(i.namespace, i.name) ? { ...i, healthy: false } : i));
  }

  watch(w: () => void): () => void {
    this.watchers.add(w);
    return () => this.watchers.delete(w);
  }
}
