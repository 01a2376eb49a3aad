import type { AppEndpoint, WorkloadInstance } from '../api/snapshot.js';
import { namespaceOf, type Resource } from '../api/resource.js';
import { protocolOfName } from './port-protocol.js';

// A WorkloadEntry (Istio's way to add a VM or any process outside Kubernetes to the mesh) as a
// workload instance. Its application is at `spec.address` on each of `spec.ports` (so its
// endpoints are the application itself unless a sidecar is started for it). Kubernetes Services
// and ServiceEntries with a workloadSelector select these instances by labels like any other.

export function instanceFromWorkloadEntry(r: Resource): WorkloadInstance | undefined {
  const spec = r.spec ?? {};
  const address = typeof spec.address === 'string' ? spec.address : '';
  // Istio allows an empty address only behind a network gateway, and unix sockets; neither is dialable here.
  if (!address || address.startsWith('unix://')) return undefined;
  const labels: Record<string, string> = { ...(spec.labels && Object.keys(spec.labels).length ? spec.labels : (r.metadata.labels ?? {})) };
  const app = (port: number): AppEndpoint => ({ host: address, port });
  const ports = Object.entries((spec.ports ?? {}) as Record<string, number>)
    .filter(([, port]) => typeof port === 'number')
    .map(([name, port]) => ({ name, port, protocol: protocolOfName(name) ?? 'tcp', app: app(port) }))
    .sort((a, b) => a.port - b.port);
  return {
    name: r.metadata.name,
    workload: labels.app ? (labels.version ? `${labels.app}-${labels.version}` : labels.app) : r.metadata.name,
    namespace: namespaceOf(r),
    serviceAccount: spec.serviceAccount || 'default',
    labels,
    address,
    ports,
    healthy: true,
    source: 'workloadentry',
  };
}
