import { join } from 'node:path';
import type { Resource } from '../../api/resource.js';
import type { ProxyNode, WorkloadInstance } from '../../api/snapshot.js';
import { nodeIdOf } from '../../controlplane/registry.js';
import { AddressAllocator, addressBase } from './addresses.js';
import { loadTopology } from './topology/parse.js';
import { planMesh } from './topology/plan.js';
import type { WorkloadSpec } from './workload/spec.js';

// What the local mesh runs, computed the same way by the process supervisor (which starts the
// processes) and by the control plane (which registers the instances): same topology files in
// the same order give the same instances at the same addresses, so either can restart alone.

export interface PlannedInstance {
  id: string; // proxy node id
  instance: WorkloadInstance;
  spec: WorkloadSpec;
  node: ProxyNode;
}

export interface LocalPlan {
  resources: Resource[];
  instances: PlannedInstance[];
}

export function planLocalMesh(stateRoot: string, topologyFiles: readonly string[]): LocalPlan {
  const addresses = new AddressAllocator(addressBase());
  const plan: LocalPlan = { resources: [], instances: [] };
  for (const file of topologyFiles) {
    const { topology } = loadTopology(file);
    const p = planMesh(topology, { stateDir: stateRoot, allocateAddress: (name, ns) => addresses.allocate(`${ns}/${name}`) });
    plan.resources.push(...p.resources);
    for (const { instance, spec } of p.instances) {
      const id = nodeIdOf(instance);
      const node: ProxyNode = {
        id, instance: instance.name, workload: instance.workload, namespace: instance.namespace,
        serviceAccount: instance.serviceAccount, labels: instance.labels, address: instance.address,
      };
      plan.instances.push({ id, instance, spec, node });
    }
  }
  return plan;
}

/** Where a topology lives: a file, or a directory holding `topology.yaml`. */
export function topologyFileOf(path: string, isDirectory: boolean): string {
  return isDirectory ? join(path, 'topology.yaml') : path;
}
