import type { Resource } from '../../../../api/resource.js';
import type { AnalysisContext, Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';
import { servicePortProtocol } from './protocol.js';
import { isIstioControlPlane } from '../../util.js';

// Istio picks a port's protocol from its name (`http`, `grpc-api`, ...) or `appProtocol`. A port
// that names no protocol falls back to sniffing, which fails for server-first protocols and
// costs a detection delay; on an ExternalName Service Istio even treats such a port as HTTP, and a
// plain `tcp` name is not enough there either. This flags the ports Istio cannot classify.

const GATEWAY_MANAGED_LABEL = 'gateway.istio.io/managed';

/** Gateway and waypoint Services that Istio's controllers create; their users did not name the ports. */
const ISTIO_GATEWAY_CONTROLLERS = new Set(['istio.io-gateway-controller', 'istio.io-mesh-controller', 'istio.io-eastwest-controller']);

function isManagedGateway(svc: Resource): boolean {
  return ISTIO_GATEWAY_CONTROLLERS.has(svc.metadata.labels?.[GATEWAY_MANAGED_LABEL] ?? '');
}

/** `targetPort` as the API server stores it: when unset, Kubernetes defaults it to the port. */
function targetPortText(p: any): string {
  return p?.targetPort === undefined || p?.targetPort === null ? String(p?.port ?? 0) : String(p.targetPort);
}

function checkService(ctx: AnalysisContext, svc: Resource): void {
  const externalName = svc.spec?.type === 'ExternalName';
  (svc.spec?.ports ?? []).forEach((p: any, i: number) => {
    const unclassified = servicePortProtocol(p ?? {}) === 'Unsupported';
    if (!unclassified && !(externalName && p?.name === 'tcp')) return;
    const path = ['spec', 'ports', i, 'port'];
    const message = externalName
      ? newMessage('IST0150', svc, [], path)
      : newMessage('IST0118', svc, [p?.name ?? '', Number(p?.port ?? 0), targetPortText(p)], path);
    ctx.report(message);
  });
}

export const portNameAnalyzer: Analyzer = {
  name: 'service.PortNameAnalyzer',
  description: 'Checks that Service port names (or appProtocol) tell Istio the protocol',
  inputs: ['Service'],
  codes: ['IST0118', 'IST0150'],
  analyze(ctx) {
    for (const svc of ctx.list('Service')) {
      if (isIstioControlPlane(svc) || isManagedGateway(svc)) continue;
      checkService(ctx, svc);
    }
  },
};
