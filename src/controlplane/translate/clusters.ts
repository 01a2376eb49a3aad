import type { Cluster, ClusterLoadAssignment } from '../../api/snapshot.js';
import { clusterProtocol } from '../port-protocol.js';
import type { MeshService, ServicePort } from '../services.js';
import { destinationRuleFor, effectivePolicy, type TrafficPolicy } from './destination-rules.js';
import { serviceEndpoints, subsetEndpoints } from './endpoints.js';
import { clusterName } from './hosts.js';
import { noteUnsupportedPoolFields } from './connection-pool.js';
import { balancerSettings } from './load-balancer.js';
import type { NodeContext } from './node-context.js';
import { clusterTransportSecurity } from './security.js';

// Outbound clusters (istiod's CDS) and their endpoints (EDS) for one proxy: one cluster per
// visible (service, port), and one more per DestinationRule subset, each with the traffic policy
// that applies to it (top level < port level < subset < subset port level).

export interface ClustersAndEndpoints {
  clusters: Cluster[];
  endpoints: ClusterLoadAssignment[];
}

export function outboundClusters(ctx: NodeContext): ClustersAndEndpoints {
  const out: ClustersAndEndpoints = { clusters: [], endpoints: [] };
  for (const svc of ctx.services) {
    const dr = destinationRuleFor(ctx, svc);
    for (const port of svc.ports) {
      const all = serviceEndpoints(ctx, svc, port);
      const policy = effectivePolicy(dr?.trafficPolicy, undefined, port.port);
      const name = clusterName('outbound', port.port, undefined, svc.hostname);
      out.clusters.push(makeCluster(ctx, name, svc, port, undefined, policy, dr?.origin));
      out.endpoints.push({ clusterName: name, endpoints: all });
      for (const subset of dr?.subsets ?? []) {
        const subsetName = clusterName('outbound', port.port, subset.name, svc.hostname);
        const subsetPolicy = effectivePolicy(dr?.trafficPolicy, subset.trafficPolicy, port.port);
        out.clusters.push(makeCluster(ctx, subsetName, svc, port, subset.name, subsetPolicy, subset.origin));
        out.endpoints.push({ clusterName: subsetName, endpoints: subsetEndpoints(all, subset.labels) });
      }
    }
  }
  return out;
}

function makeCluster(
  ctx: NodeContext,
  name: string,
  svc: MeshService,
  port: ServicePort,
  subset: string | undefined,
  policy: TrafficPolicy | undefined,
  origin: string | undefined,
): Cluster {
  const lb = balancerSettings(policy?.loadBalancer, origin ?? svc.origin, ctx.notes);
  const cluster: Cluster = {
    name,
    direction: 'outbound',
    service: svc.hostname,
    ...(subset !== undefined && { subset }),
    port: port.port,
    protocol: clusterProtocol(port.protocol),
    // Resolution NONE: Istio's ORIGINAL_DST cluster; the load balancer of a rule has nothing to pick from.
    lbPolicy: svc.endpointSource === 'passthrough' ? 'PASSTHROUGH' : lb.lbPolicy,
  };
  if (svc.endpointSource !== 'passthrough') {
    if (lb.hashPolicy) cluster.hashPolicy = lb.hashPolicy;
    if (lb.ringSize !== undefined) cluster.ringSize = lb.ringSize;
  }
  if (policy?.connectionPool !== undefined) {
    cluster.connectionPool = policy.connectionPool;
    noteUnsupportedPoolFields(policy.connectionPool, origin ?? svc.origin, ctx.notes);
  }
  if (policy?.outlierDetection !== undefined) {
    cluster.outlierDetection = policy.outlierDetection;
    // The sidecar runs Envoy's non-split mode only (src/proxy/upstream/outlier-settings.ts).
    const split = policy.outlierDetection?.splitExternalLocalOriginErrors;
    if (split === true || split === 'true') ctx.notes.add(origin ?? svc.origin, 'outlierDetection.splitExternalLocalOriginErrors (and consecutiveLocalOriginFailures) is not implemented yet; local-origin failures count as 5xx');
  }
  if (policy?.tls !== undefined) cluster.tls = policy.tls;
  const transport = clusterTransportSecurity(ctx, policy?.tls, origin ?? svc.origin, cluster.protocol);
  if (transport) cluster.transportSecurity = transport;
  if (origin) cluster.origin = origin;
  return cluster;
}
