import type { ProxyNode } from '../../api/snapshot.js';

// Who a peer is, in the words of Istio's standard labels: the workload behind a sidecar, the
// endpoint a request went to, or the caller named by peer metadata. The canonical service and
// revision follow Istio's labels.CanonicalService: `service.istio.io/canonical-name`, else
// `app.kubernetes.io/name`, else `app`, else the workload name; `service.istio.io/canonical-revision`,
// else `app.kubernetes.io/version`, else `version`, else `latest`.

/** Istio's value for a label it cannot know. */
export const UNKNOWN = 'unknown';
/** Istio's default cluster id (`CLUSTER_ID` of a single-cluster mesh). */
export const DEFAULT_CLUSTER_ID = 'Kubernetes';

export interface WorkloadIdentity {
  workload: string;
  namespace: string;
  /** The `app` and `version` labels ('' when the workload has none, as Istio reports its own). */
  app: string;
  version: string;
  canonicalService: string;
  canonicalRevision: string;
  cluster: string;
}

const NAME_LABELS = ['service.istio.io/canonical-name', 'app.kubernetes.io/name', 'app'];
const REVISION_LABELS = ['service.istio.io/canonical-revision', 'app.kubernetes.io/version', 'version'];

export function canonicalService(labels: Record<string, string>, workload: string): string {
  for (const k of NAME_LABELS) if (labels[k] !== undefined) return labels[k];
  return workload;
}

export function canonicalRevision(labels: Record<string, string>): string {
  for (const k of REVISION_LABELS) if (labels[k] !== undefined) return labels[k];
  return 'latest';
}

export function identityOf(workload: string, namespace: string, labels: Record<string, string>, cluster = DEFAULT_CLUSTER_ID): WorkloadIdentity {
  return {
    workload,
    namespace,
    app: labels.app ?? '',
    version: labels.version ?? '',
    canonicalService: canonicalService(labels, workload),
    canonicalRevision: canonicalRevision(labels),
    cluster,
  };
}

export function nodeIdentity(node: ProxyNode): WorkloadIdentity {
  return identityOf(node.workload, node.namespace, node.labels);
}

/** A Kubernetes service host's short name (`reviews` of `reviews.bookinfo.svc.cluster.local`); other hosts (ServiceEntry) are their own name, as in Istio's cluster metadata. */
export function serviceNameOf(host: string): string {
  const svc = host.indexOf('.svc.');
  if (svc < 0) return host;
  const dot = host.indexOf('.');
  return dot > 0 ? host.slice(0, dot) : host;
}
