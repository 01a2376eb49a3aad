import type { Resource } from '../../../../api/resource.js';
import type { Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';
import { ISTIO_OPERATOR_CONTAINER, ISTIO_PROXY_CONTAINER, isIstioControlPlane } from '../../util.js';

// UID 1337 is the sidecar proxy's own user: iptables lets its traffic bypass the proxy, so an
// application container running as 1337 escapes the mesh. Flags Pods and Deployments that set it,
// in the pod security context or in a (non-proxy) container's.

const PROXY_UID = 1337;

function usesProxyUid(podSpec: any): boolean {
  if (!podSpec) return false;
  if (podSpec.securityContext?.runAsUser === PROXY_UID) return true;
  return (podSpec.containers ?? []).some(
    (c: any) => c?.name !== ISTIO_PROXY_CONTAINER && c?.name !== ISTIO_OPERATOR_CONTAINER && c?.securityContext?.runAsUser === PROXY_UID,
  );
}

export const applicationUidAnalyzer: Analyzer = {
  name: 'applicationUID.Analyzer',
  description: 'Checks that application pods do not run as the UID reserved for the sidecar proxy (1337)',
  inputs: ['Pod', 'Deployment'],
  codes: ['IST0144'],
  analyze(ctx) {
    // Istio's control plane legitimately runs as 1337; one message per workload is enough.
    const check = (r: Resource, podSpec: any) => {
      if (!isIstioControlPlane(r) && usesProxyUid(podSpec)) ctx.report(newMessage('IST0144', r));
    };
    for (const pod of ctx.list('Pod')) check(pod, pod.spec);
    for (const d of ctx.list('Deployment')) check(d, d.spec?.template?.spec);
  },
};
