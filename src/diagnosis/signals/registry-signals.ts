import type { WorkloadInstance } from '../../api/snapshot.js';
import type { Resource } from '../../api/resource.js';
import { namespaceOf } from '../../api/resource.js';
import { hostForms } from './hosts.js';
import type { InstanceState } from './snapshot.js';

// Registry state for diagnosis: which instances are ready, and since when. The registry only
// knows the present; the tracker remembers when each instance last changed, so "not ready since
// 2 s before the errors began" can be evidence.

export class ReadinessTracker {
  private readonly since = new Map<string, { ready: boolean; at: number }>();

  constructor(private readonly now: () => number) {}

  /** Records the registry as it is now (call on every registry change and before reading). */
  observe(instances: readonly WorkloadInstance[]): void {
    const seen = new Set<string>();
    for (const i of instances) {
      const k = `${i.namespace}/${i.name}`;
      seen.add(k);
      const prev = this.since.get(k);
      if (!prev || prev.ready !== i.healthy) this.since.set(k, { ready: i.healthy, at: prev ? this.now() : Number.NEGATIVE_INFINITY });
    }
    for (const k of [...this.since.keys()]) if (!seen.has(k)) this.since.delete(k);
  }

  changedAt(namespace: string, name: string): number | undefined {
    const at = this.since.get(`${namespace}/${name}`)?.at;
    return at === undefined || !Number.isFinite(at) ? undefined : at;
  }
}

export function instanceStates(instances: readonly WorkloadInstance[], tracker: ReadinessTracker | undefined, scrapeUp: ReadonlyMap<string, boolean>, withdrawn?: (namespace: string, name: string) => boolean): InstanceState[] {
  return instances
    .filter((i) => i.source !== 'workloadentry')
    .map((i) => {
      const since = tracker?.changedAt(i.namespace, i.name);
      const up = scrapeUp.get(`${i.namespace}/${i.name}`);
      return {
        namespace: i.namespace,
        name: i.name,
        workload: i.workload,
        service: i.labels.app ?? i.workload,
        version: i.labels.version ?? '',
        ready: i.healthy,
        ...(since !== undefined && { since }),
        scrapeUp: up === undefined ? null : up,
        ...(withdrawn?.(i.namespace, i.name) && { withdrawn: true }),
      };
    });
}

/** Hosts of ServiceEntries outside the mesh (Istio's default location is MESH_EXTERNAL). */
export function externalHostsOf(serviceEntries: readonly Resource[]): Set<string> {
  const out = new Set<string>();
  for (const r of serviceEntries) {
    if ((r.spec as { location?: string } | undefined)?.location === 'MESH_INTERNAL') continue;
    for (const h of Array.isArray(r.spec?.hosts) ? r.spec.hosts : []) for (const f of hostForms(h, namespaceOf(r))) out.add(f);
  }
  return out;
}
