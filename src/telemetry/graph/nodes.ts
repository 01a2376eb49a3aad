import { UNKNOWN, type TrafficRow } from './traffic-rows.js';
import type { NodeRef } from './types.js';

export type { NodeRef };

// Who the ends of a row are, as graph nodes. Ids are stable and readable:
//   svc:<destination_service FQDN>   wl:<namespace>/<workload>   inst:<namespace>/<pod>   unknown

export const UNKNOWN_NODE: NodeRef = { id: 'unknown', kind: 'unknown', namespace: UNKNOWN, name: UNKNOWN };

/** The namespace inside a Kubernetes service FQDN (`reviews.bookinfo.svc.cluster.local`). */
function namespaceOfHost(host: string): string | undefined {
  const m = /^[^.]+\.([^.]+)\.svc(\.|$)/.exec(host);
  return m?.[1];
}

export function serviceNode(r: TrafficRow): NodeRef {
  const fromHost = namespaceOfHost(r.service);
  const namespace = fromHost ?? (r.serviceNamespace !== UNKNOWN ? r.serviceNamespace : UNKNOWN);
  const name = r.serviceName && r.serviceName !== UNKNOWN ? r.serviceName : r.service;
  // Not a Kubernetes service: a ServiceEntry host, or the Host of a request no route took.
  return { id: `svc:${r.service}`, kind: 'service', namespace, name, service: r.service, ...(fromHost === undefined && { external: true }) };
}

export function sourceWorkloadNode(r: TrafficRow): NodeRef {
  if (r.sourceWorkload === UNKNOWN) return UNKNOWN_NODE;
  return workloadNode(r.sourceNamespace, r.sourceWorkload, r.sourceApp, r.sourceVersion);
}

export function destinationWorkloadNode(r: TrafficRow): NodeRef | null {
  if (r.destinationWorkload === UNKNOWN) return null;
  return workloadNode(r.destinationNamespace, r.destinationWorkload, r.destinationApp, r.destinationVersion);
}

function workloadNode(namespace: string, workload: string, app: string, version: string): NodeRef {
  return { id: `wl:${namespace}/${workload}`, kind: 'workload', namespace, name: workload, workload, ...(app && { app }), ...(version && { version }) };
}

/** The instance whose sidecar reported the row (the scrape's `pod` label); null without one. */
export function reportingInstanceNode(r: TrafficRow): NodeRef | null {
  if (!r.pod) return null;
  const self = r.reporter === 'source'
    ? { ns: r.sourceNamespace, wl: r.sourceWorkload, app: r.sourceApp, version: r.sourceVersion }
    : { ns: r.destinationNamespace, wl: r.destinationWorkload, app: r.destinationApp, version: r.destinationVersion };
  const namespace = r.podNamespace || self.ns;
  return {
    id: `inst:${namespace}/${r.pod}`,
    kind: 'instance',
    namespace,
    name: r.pod,
    instance: r.pod,
    ...(self.wl !== UNKNOWN && { workload: self.wl }),
    ...(self.app && { app: self.app }),
    ...(self.version && { version: self.version }),
  };
}

/** Fills fields one row left out (a bucket row carries fewer labels than a request row). */
export function mergeNode(into: NodeRef, from: NodeRef): void {
  for (const k of ['app', 'version', 'workload', 'instance', 'service'] as const) if (into[k] === undefined && from[k] !== undefined) into[k] = from[k];
}
