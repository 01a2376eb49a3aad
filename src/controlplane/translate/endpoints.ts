import type { Endpoint, WorkloadInstance } from '../../api/snapshot.js';
import type { MeshService, ServicePort } from '../services.js';
import type { MeshView } from './mesh-view.js';
import type { NodeContext } from './node-context.js';
import { modeForPort, resolvePeerAuthentication } from '../../security/peer-authentication.js';

// The endpoints of one service port (istiod's EDS): selected workload instances, a
// ServiceEntry's declared endpoints, or its host name for DNS resolution. Sorted, so equal
// state gives equal snapshots. Snapshots share these arrays: nobody may mutate them.

/** Endpoints do not depend on which proxy asks: computed once per mesh view and shared by every snapshot. */
const cache = new WeakMap<MeshView, Map<string, Endpoint[]>>();

export function serviceEndpoints(ctx: NodeContext, svc: MeshService, port: ServicePort): Endpoint[] {
  let byKey = cache.get(ctx.view);
  if (!byKey) cache.set(ctx.view, (byKey = new Map()));
  const key = `${svc.namespace}/${svc.hostname}/${port.port}`;
  let out = byKey.get(key);
  if (!out) byKey.set(key, (out = computeEndpoints(ctx.view, svc, port)));
  return out;
}

function computeEndpoints(view: MeshView, svc: MeshService, port: ServicePort): Endpoint[] {
  let out: Endpoint[];
  switch (svc.endpointSource) {
    case 'selector':
      out = view.instances
        .filter((i) => i.namespace === svc.namespace && labelsMatch(svc.selector, i.labels))
        .flatMap((i) => {
          const p = instancePort(svc, port, i);
          return p === undefined ? [] : [{ address: i.address, port: p, instance: i.name, workload: i.workload, namespace: i.namespace, labels: { ...i.labels }, healthy: i.healthy, ...(acceptsMtls(view, i, p) && { tlsMode: 'istio' as const }) }];
        });
      break;
    case 'declared':
      out = (svc.declaredEndpoints ?? []).map((e) => ({
        address: e.address,
        port: e.ports[port.name] ?? numericTarget(port) ?? port.port,
        instance: e.name,
        labels: { ...e.labels },
        ...(e.weight !== undefined && { weight: e.weight }),
        healthy: true,
      }));
      break;
    case 'hostname':
      // DNS resolution: the proxy resolves the name when it connects (Envoy's STRICT_DNS, resolved late).
      out = [{ address: svc.hostname, port: numericTarget(port) ?? port.port, instance: svc.hostname, labels: {}, healthy: true }];
      break;
    case 'passthrough':
      out = []; // resolution NONE: the proxy dials the address the request names
      break;
  }
  return out.sort(compareEndpoints);
}

/** A subset's endpoints: those carrying every label of the subset. */
export function subsetEndpoints(endpoints: Endpoint[], labels: Record<string, string>): Endpoint[] {
  return endpoints.filter((e) => labelsMatch(labels, e.labels));
}

/**
 * The port an instance serves a service port on. Kubernetes: the numeric targetPort, or the
 * instance port named by a string targetPort (no such port: not an endpoint). ServiceEntry with
 * a workloadSelector: the instance port with the service port's name, else targetPort, else the port.
 */
function instancePort(svc: MeshService, port: ServicePort, inst: WorkloadInstance): number | undefined {
  if (svc.kind === 'ServiceEntry') return inst.ports.find((p) => p.name === port.name)?.port ?? numericTarget(port) ?? port.port;
  if (typeof port.targetPort === 'number') return port.targetPort;
  const asNumber = Number(port.targetPort);
  if (Number.isInteger(asNumber) && asNumber > 0) return asNumber;
  return inst.ports.find((p) => p.name === port.targetPort)?.port;
}

function numericTarget(port: ServicePort): number | undefined {
  return typeof port.targetPort === 'number' ? port.targetPort : undefined;
}

/**
 * Auto mTLS targets (Istio's `security.istio.io/tlsMode: istio` endpoint label): every instance
 * the local mesh runs or registers has its sidecar at its address; a WorkloadEntry only when its
 * labels say so. The label, when written, decides.
 */
function hasSidecar(i: WorkloadInstance): boolean {
  const label = i.labels['security.istio.io/tlsMode'];
  if (label !== undefined) return label === 'istio';
  return i.source !== 'workloadentry';
}

/** Istio's auto mTLS also reads the server's PeerAuthentication: a port it sets to DISABLE gets plaintext. */
function acceptsMtls(view: MeshView, i: WorkloadInstance, port: number): boolean {
  if (!hasSidecar(i)) return false;
  if (!view.peerAuthentications?.length) return true;
  return modeForPort(resolvePeerAuthentication(view.peerAuthentications, i, view.rootNamespace), port) !== 'DISABLE';
}

export function labelsMatch(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}

export function compareEndpoints(a: Endpoint, b: Endpoint): number {
  const ka = `${a.instance}\u0000${a.address}\u0000${String(a.port).padStart(5, '0')}`;
  const kb = `${b.instance}\u0000${b.address}\u0000${String(b.port).padStart(5, '0')}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
