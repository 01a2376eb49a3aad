import type { Endpoint, Listener, ProxySnapshot } from '../../api/snapshot.js';
import type { RuntimeCluster } from '../../proxy/upstream/cluster.js';
import type { UpstreamHost } from '../../proxy/upstream/host.js';
import { edgeLabelText } from './label-sets.js';
import { identityOf, serviceNameOf, UNKNOWN, type WorkloadIdentity } from './workload-identity.js';

// The edge part of a series' labels (reporter to destination_cluster) for each reporter, as
// Istio's stats filter fills it:
// - source reports (outbound listeners): the destination is the endpoint the request went to
//   (its workload metadata from the control plane, istiod's `istio.workload` endpoint metadata),
//   the service is the cluster's (else the Host header, for requests that found no cluster), and
//   destination_service_namespace is the destination workload's namespace;
// - destination reports (inbound listeners): the source is the caller named by peer metadata,
//   the service the one the inbound cluster serves (else this workload's canonical name; Istio
//   does not fall back to the Host header on inbound), in this workload's namespace.

/** The workload behind an endpoint, or null when the control plane knows none (external hosts). */
export function endpointIdentity(e: Endpoint): WorkloadIdentity | null {
  return e.workload ? identityOf(e.workload, e.namespace ?? '', e.labels) : null;
}

export function sourceEdgeText(self: WorkloadIdentity, cluster: RuntimeCluster | null, host: UpstreamHost | null, authority: string): string {
  const destination = host ? endpointIdentity(host.endpoint) : null;
  const service = cluster?.def.service;
  return edgeLabelText({
    reporter: 'source',
    source: self,
    destination,
    serviceHost: service ?? authority,
    serviceName: service ? serviceNameOf(service) : authority,
    serviceNamespace: destination?.namespace || UNKNOWN,
  });
}

/** What an inbound listener serves: the service host its inbound cluster carries, if any. */
export function inboundServiceOf(snapshot: ProxySnapshot, listener: Listener): string | undefined {
  const name = listener.tcpCluster ?? `inbound|${listener.port}||`;
  return snapshot.clusters.find((c) => c.name === name && c.direction === 'inbound')?.service;
}

export function destinationEdgeText(self: WorkloadIdentity, peer: WorkloadIdentity | null, service: string | undefined, principals?: { source: string; destination: string }): string {
  return edgeLabelText({
    ...(principals && { sourcePrincipal: principals.source, destinationPrincipal: principals.destination }),
    reporter: 'destination',
    source: peer,
    destination: self,
    serviceHost: service ?? self.canonicalService,
    serviceName: service ? serviceNameOf(service) : self.canonicalService,
    serviceNamespace: self.namespace,
  });
}
