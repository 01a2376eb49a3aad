import type { Resource } from '../../../../api/resource.js';
import type { Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';

// UID 1337 is the sidecar proxy's own user: iptables lets its traffic bypass the proxy, so an
// application container running as 1337 escapes the mesh. Flags Pods and Deployments that set it,
// in the pod security context or in a (non-proxy) container's.

const PROXY_UID = 1337;

function checkPodSpec(report: (path: Array<string | number>) => void, podSpec: any, base: Array<string | number>): void {
  if (!podSpec) return;
  if (podSpec.securityContext?.runAsUser === PROXY_UID) report([...base, 'securityContext', 'runAsUser']);
  (podSpec.containers ?? []).forEach((c: any, i: number) => {
    if (c?.name === 'istio-proxy') return;
    if (c?.securityContext?.runAsUser === PROXY_UID) report([...base, 'containers', i, 'securityContext', 'runAsUser']);
  });
}

export const applicationUidAnalyzer: Analyzer = {
  name: 'applicationUID.Analyzer',
  description: 'Checks that application pods do not run as the UID reserved for the sidecar proxy (1337)',
  inputs: ['Pod', 'Deployment'],
  codes: ['IST0144'],
  analyze(ctx) {
    const each = (r: Resource, podSpec: any, base: Array<string | number>) =>
      checkPodSpec((path) => ctx.report(newMessage('IST0144', r, [], path)), podSpec, base);
    for (const pod of ctx.list('Pod')) each(pod, pod.spec, ['spec']);
    for (const d of ctx.list('Deployment')) each(d, d.spec?.template?.spec, ['spec', 'template', 'spec']);
  },
};
