import { namespaceOf, type Resource } from '../../../../api/resource.js';
import type { AnalysisContext, Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';
import { ISTIO_PROXY_CONTAINER, nsName } from '../../util.js';

// The sidecar builds one inbound listener per workload port. When several Services select the
// same pods and disagree on a port (one says TCP, another HTTP), or map different service ports
// onto the same container port, the proxy can only honour one of them and traffic for the other
// is handled with the wrong protocol. This flags meshed Deployments in that situation.

const GATEWAY_MANAGED_LABEL = 'gateway.istio.io/managed';
const WAYPOINT_CONTROLLER = 'istio.io-mesh-controller';
const SIDECAR_INJECT = 'sidecar.istio.io/inject';

/** Waypoints are created and wired by Istio itself, so their Services are not the user's doing. */
function isWaypoint(d: Resource): boolean {
  return d.metadata.labels?.[GATEWAY_MANAGED_LABEL] === WAYPOINT_CONTROLLER;
}

/**
 * Whether the Deployment's pods get a sidecar: an explicit proxy container, else the pod
 * template's inject label, then its inject annotation, then the namespace's injection label.
 */
function inMesh(ctx: AnalysisContext, d: Resource): boolean {
  const template = d.spec?.template ?? {};
  const proxy = (template.spec?.containers ?? []).find((c: any) => c?.name === ISTIO_PROXY_CONTAINER);
  if (proxy?.image) return true;
  for (const source of [template.metadata?.labels, template.metadata?.annotations]) {
    if (source && SIDECAR_INJECT in source) return source[SIDECAR_INJECT] === 'true';
  }
  const ns = ctx.get('Namespace', '', namespaceOf(d));
  return ns?.metadata.labels?.['istio-injection'] === 'enabled';
}

/** Services of the Deployment's namespace whose (non-empty) selector picks its pods. */
function servicesOf(ctx: AnalysisContext, d: Resource): Resource[] {
  const podLabels: Record<string, string> = d.spec?.template?.metadata?.labels ?? {};
  return ctx.list('Service').filter((svc) => {
    const selector: Record<string, string> = svc.spec?.selector ?? {};
    const keys = Object.keys(selector);
    return namespaceOf(svc) === namespaceOf(d) && keys.length > 0 && keys.every((k) => podLabels[k] === selector[k]);
  });
}

/** Service ports of these Services, with the protocol Kubernetes assumes when none is given. */
function portsOf(services: Resource[]): Array<{ service: string; port: number; protocol: string; targetPort: string }> {
  return services.flatMap((svc) =>
    (svc.spec?.ports ?? []).map((p: any) => {
      const target = p?.targetPort === undefined || p?.targetPort === null ? '' : String(p.targetPort);
      return {
        service: nsName(svc),
        port: Number(p?.port ?? 0),
        protocol: p?.protocol || 'TCP',
        // An unset target port means "same as port".
        targetPort: target === '' || target === '0' ? String(p?.port ?? 0) : target,
      };
    }),
  );
}

/** One message per service port number that the selecting Services declare with different protocols. */
function checkProtocols(ctx: AnalysisContext, d: Resource, ports: ReturnType<typeof portsOf>): void {
  const byPort = new Map<number, Map<string, string[]>>();
  for (const p of ports) {
    const protocols = byPort.get(p.port) ?? new Map<string, string[]>();
    byPort.set(p.port, protocols);
    protocols.set(p.protocol, [...(protocols.get(p.protocol) ?? []), p.service]);
  }
  for (const [port, protocols] of byPort) {
    if (protocols.size < 2) continue;
    const services = [...protocols.values()].flat().sort();
    ctx.report(newMessage('IST0116', d, [d.metadata.name, port, services], ['metadata', 'name']));
  }
}

/** One message per container port that several service ports point at. */
function checkTargetPorts(ctx: AnalysisContext, d: Resource, ports: ReturnType<typeof portsOf>): void {
  const byTarget = new Map<string, Map<number, string>>();
  for (const p of ports) {
    const servicePorts = byTarget.get(p.targetPort) ?? new Map<number, string>();
    byTarget.set(p.targetPort, servicePorts);
    servicePorts.set(p.port, p.service); // the same port twice counts once
  }
  for (const [targetPort, servicePorts] of byTarget) {
    if (servicePorts.size < 2) continue;
    const services = [...servicePorts.values()].sort();
    const portNumbers = [...servicePorts.keys()].sort((a, b) => a - b);
    ctx.report(newMessage('IST0137', d, [d.metadata.name, targetPort, services, portNumbers], ['metadata', 'name']));
  }
}

export const multiServiceAnalyzer: Analyzer = {
  name: 'deployment.MultiServiceAnalyzer',
  description: 'Checks that the Services selecting a meshed Deployment agree on its ports',
  inputs: ['Service', 'Deployment', 'Namespace'],
  codes: ['IST0116', 'IST0137'],
  analyze(ctx) {
    for (const d of ctx.list('Deployment')) {
      if (isWaypoint(d) || !inMesh(ctx, d)) continue;
      const ports = portsOf(servicesOf(ctx, d));
      checkProtocols(ctx, d, ports);
      checkTargetPorts(ctx, d, ports);
    }
  },
};
