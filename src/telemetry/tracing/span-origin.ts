import type { ProxyNode } from '../../api/snapshot.js';

// Who records a proxy's spans, worked out once per snapshot (not per request): the canonical
// service and revision by Istio's label precedence, the workload, namespace and instance.

export interface SpanOrigin {
  service: string;
  version: string | undefined;
  workload: string;
  namespace: string;
  instance: string;
}

/** Istio's canonical service: `service.istio.io/canonical-name`, `app.kubernetes.io/name`, `app`, else the workload name. */
export function canonicalService(labels: Record<string, string>, workload: string): string {
  return labels['service.istio.io/canonical-name'] ?? labels['app.kubernetes.io/name'] ?? labels.app ?? workload;
}

/** Istio's canonical revision: `service.istio.io/canonical-revision`, `app.kubernetes.io/version`, `version`; undefined for Istio's `latest`. */
export function canonicalRevision(labels: Record<string, string>): string | undefined {
  return labels['service.istio.io/canonical-revision'] ?? labels['app.kubernetes.io/version'] ?? labels.version;
}

export function spanOrigin(node: ProxyNode): SpanOrigin {
  const labels = node.labels ?? {};
  return {
    service: canonicalService(labels, node.workload),
    version: canonicalRevision(labels),
    workload: node.workload,
    namespace: node.namespace,
    instance: node.instance,
  };
}
