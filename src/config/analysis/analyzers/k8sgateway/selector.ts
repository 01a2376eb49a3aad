import { namespaceOf, type Resource } from '../../../../api/resource.js';
import type { KindId } from '../../../../api/kinds.js';
import type { Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';

// Proxies deployed for a Kubernetes Gateway API Gateway (pods labelled with the gateway name)
// are not attached to by a policy's workload `selector`: such policies must use `targetRef`.
// A policy whose selector matches one of those pods therefore does nothing there. Flags it,
// once per gateway pod it matches.

const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';
const POLICY_KINDS: readonly KindId[] = ['AuthorizationPolicy', 'RequestAuthentication', 'Telemetry', 'WasmPlugin'];

/** Labels of every Gateway API proxy pod, by namespace. */
function gatewayPodLabels(pods: readonly Resource[]): Map<string, Array<Record<string, string>>> {
  const byNs = new Map<string, Array<Record<string, string>>>();
  for (const pod of pods) {
    const labels = pod.metadata.labels ?? {};
    if (labels[GATEWAY_NAME_LABEL] === undefined) continue;
    const ns = namespaceOf(pod);
    byNs.set(ns, [...(byNs.get(ns) ?? []), labels]);
  }
  return byNs;
}

/** All of the selector's labels are on the pod (an empty matchLabels matches every pod). */
function containsAll(labels: Record<string, string>, matchLabels: Record<string, string>): boolean {
  return Object.entries(matchLabels).every(([k, v]) => labels[k] === v);
}

export const k8sgatewaySelectorAnalyzer: Analyzer = {
  name: 'k8sgateway.SelectorAnalyzer',
  description: 'Finds policies whose workload selector targets a Kubernetes Gateway\'s pods, where only targetRef takes effect',
  inputs: ['AuthorizationPolicy', 'RequestAuthentication', 'Telemetry', 'WasmPlugin', 'Pod'],
  codes: ['IST0166'],
  analyze(ctx) {
    const gatewayPods = gatewayPodLabels(ctx.list('Pod'));
    for (const kind of POLICY_KINDS) {
      for (const policy of ctx.list(kind)) {
        // A policy that already uses targetRef is attached the right way.
        if (policy.spec?.targetRef != null) continue;
        const selector = policy.spec?.selector;
        if (selector == null) continue;
        const matchLabels: Record<string, string> = selector.matchLabels ?? {};
        for (const labels of gatewayPods.get(namespaceOf(policy)) ?? []) {
          if (containsAll(labels, matchLabels)) ctx.report(newMessage('IST0166', policy, [labels[GATEWAY_NAME_LABEL]]));
        }
      }
    }
  },
};
