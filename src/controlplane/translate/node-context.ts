import type { ProxyNode, WorkloadInstance } from '../../api/snapshot.js';
import { nodeIdOf } from '../registry.js';
import type { MeshService } from '../services.js';
import type { MeshView } from './mesh-view.js';
import { Notes } from './notes.js';
import { isVisible } from './visibility.js';

// What one proxy sees of the mesh: its own node, and the services exported to its namespace.

export interface NodeContext {
  node: ProxyNode;
  instance: WorkloadInstance;
  view: MeshView;
  /** Services visible to this node (exportTo), sorted by hostname then namespace. */
  services: MeshService[];
  /** The visible service for each hostname; when two namespaces declare one host, the first in order wins. */
  servicesByHost: Map<string, MeshService>;
  notes: Notes;
}

export function proxyNodeOf(inst: WorkloadInstance): ProxyNode {
  return {
    id: nodeIdOf(inst),
    instance: inst.name,
    workload: inst.workload,
    namespace: inst.namespace,
    serviceAccount: inst.serviceAccount,
    labels: { ...inst.labels },
    address: inst.address,
  };
}

export function nodeContext(view: MeshView, inst: WorkloadInstance, notes = new Notes()): NodeContext {
  const ns = inst.namespace;
  const services = view.services.filter((s) => isVisible(s.exportTo, s.namespace, ns));
  const servicesByHost = new Map<string, MeshService>();
  for (const s of services) {
    const prev = servicesByHost.get(s.hostname);
    // Istio prefers the declaration in the proxy's own namespace when a host is declared twice.
    if (!prev || (prev.namespace !== ns && s.namespace === ns)) {
      if (prev) notes.add(s.origin, `host ${s.hostname} is also declared by ${prev.origin}; ${s.namespace === ns ? s.origin : prev.origin} is used for namespace ${ns}`);
      servicesByHost.set(s.hostname, s);
    } else notes.add(s.origin, `host ${s.hostname} is also declared by ${prev.origin}, which is used for namespace ${ns}`);
  }
  return { node: proxyNodeOf(inst), instance: inst, view, services: [...servicesByHost.values()], servicesByHost, notes };
}
