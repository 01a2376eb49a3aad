import type { PortProtocol } from '../api/snapshot.js';
import { friendlyName, namespaceOf, type Resource } from '../api/resource.js';
import { kubernetesPortProtocol, serviceEntryPortProtocol } from './port-protocol.js';

// The services of the mesh as the translation sees them, whatever they were declared with:
// a Kubernetes `Service` (selects workload instances by labels in its namespace) or one host
// of a `ServiceEntry` (external or manually registered hosts, with STATIC, DNS or NONE
// resolution). Istio's model.Service, reduced to what meshmedic routes on.

export const CLUSTER_DOMAIN = 'cluster.local';
/** The Service annotation that limits its visibility, as `exportTo` does on Istio resources. */
export const SERVICE_EXPORT_TO_ANNOTATION = 'networking.istio.io/exportTo';

export interface ServicePort {
  name: string;
  port: number;
  /** Where endpoints listen: a number, or the name of a workload port (Kubernetes `targetPort`). */
  targetPort: number | string;
  protocol: PortProtocol;
}

/** An endpoint written in a ServiceEntry (`spec.endpoints[]`). */
export interface DeclaredEndpoint {
  name: string; // for proxy-config: `<serviceentry>[<index>]`
  address: string;
  ports: Record<string, number>; // by service port name
  labels: Record<string, string>;
  weight?: number;
}

/**
 * Where a service's endpoints come from:
 * - `selector`: workload instances in the service's namespace whose labels match (Service, ServiceEntry with workloadSelector);
 * - `declared`: the ServiceEntry's own endpoints (STATIC, or DNS with endpoints: addresses may be host names);
 * - `hostname`: the host itself (DNS resolution without endpoints: the proxy resolves it when it connects);
 * - `passthrough`: none; the proxy dials the address the request names (resolution NONE).
 */
export type EndpointSource = 'selector' | 'declared' | 'hostname' | 'passthrough';

export interface MeshService {
  kind: 'Service' | 'ServiceEntry';
  hostname: string; // FQDN: `reviews.bookinfo.svc.cluster.local`, or the ServiceEntry host
  namespace: string;
  origin: string; // `Service bookinfo/reviews`, `ServiceEntry bookinfo/external`
  ports: ServicePort[]; // sorted by port
  exportTo?: string[]; // undefined: the mesh default (`*`)
  endpointSource: EndpointSource;
  selector?: Record<string, string>;
  declaredEndpoints?: DeclaredEndpoint[];
  resolution?: string; // ServiceEntry resolution as written (default NONE)
}

export function serviceHostname(name: string, namespace: string): string {
  return `${name}.${namespace}.svc.${CLUSTER_DOMAIN}`;
}

/** A Kubernetes Service. A Service without selector has no endpoints here (meshmedic has no Endpoints controller). */
export function fromKubernetesService(r: Resource): MeshService {
  const ns = namespaceOf(r);
  const spec = r.spec ?? {};
  const ports: ServicePort[] = [];
  for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
    const protocol = kubernetesPortProtocol(p);
    if (!protocol || typeof p.port !== 'number') continue;
    ports.push({ name: p.name ?? '', port: p.port, targetPort: p.targetPort ?? p.port, protocol });
  }
  const selector = spec.selector && Object.keys(spec.selector).length > 0 ? (spec.selector as Record<string, string>) : undefined;
  const annotation = r.metadata.annotations?.[SERVICE_EXPORT_TO_ANNOTATION];
  return {
    kind: 'Service',
    hostname: serviceHostname(r.metadata.name, ns),
    namespace: ns,
    origin: friendlyName(r),
    ports: sortPorts(ports),
    exportTo: annotation ? String(annotation).split(',').map((s) => s.trim()).filter(Boolean) : undefined,
    endpointSource: selector ? 'selector' : 'declared',
    selector,
    declaredEndpoints: selector ? undefined : [],
  };
}

/** One MeshService per host of a ServiceEntry. */
export function fromServiceEntry(r: Resource): MeshService[] {
  const ns = namespaceOf(r);
  const spec = r.spec ?? {};
  const resolution: string = spec.resolution ?? 'NONE';
  const ports: ServicePort[] = [];
  for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
    const protocol = serviceEntryPortProtocol(p);
    if (!protocol || typeof p.number !== 'number') continue;
    ports.push({ name: p.name ?? '', port: p.number, targetPort: p.targetPort ?? p.number, protocol });
  }
  const declared: DeclaredEndpoint[] = (Array.isArray(spec.endpoints) ? spec.endpoints : []).map((e: any, i: number) => ({
    name: `${r.metadata.name}[${i}]`,
    address: String(e.address ?? ''),
    ports: { ...(e.ports ?? {}) },
    labels: { ...(e.labels ?? {}) },
    weight: typeof e.weight === 'number' ? e.weight : undefined,
  }));
  const selector = spec.workloadSelector?.labels as Record<string, string> | undefined;
  const hosts: string[] = Array.isArray(spec.hosts) ? spec.hosts : [];
  return hosts.map((host) => {
    let endpointSource: EndpointSource;
    if (resolution === 'NONE') endpointSource = 'passthrough';
    else if (selector) endpointSource = 'selector';
    else if (declared.length > 0 || resolution === 'STATIC') endpointSource = 'declared';
    else endpointSource = host.startsWith('*') ? 'passthrough' : 'hostname';
    return {
      kind: 'ServiceEntry',
      hostname: host,
      namespace: ns,
      origin: friendlyName(r),
      ports: sortPorts(ports),
      exportTo: Array.isArray(spec.exportTo) ? spec.exportTo : undefined,
      endpointSource,
      selector: endpointSource === 'selector' ? selector : undefined,
      declaredEndpoints: endpointSource === 'declared' ? declared : undefined,
      resolution,
    };
  });
}

function sortPorts(ports: ServicePort[]): ServicePort[] {
  return ports.sort((a, b) => a.port - b.port);
}
