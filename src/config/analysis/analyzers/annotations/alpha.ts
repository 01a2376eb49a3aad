import type { Resource } from '../../../../api/resource.js';
import type { AnalysisContext, Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';
import { isIstioAnnotation, lookupAnnotation } from './registry.js';

// Annotations that drive alpha-stage features may change or go away between releases; users who
// rely on them should know. Istio leaves this analyzer out of the default set because many such
// annotations are written by Istio itself, which would make it noisy; those are skipped here.

/** Written by Istio components, never by users. */
const SET_BY_ISTIO = new Set([
  'sidecar.istio.io/status', // the injector's record of what it injected
  'gateway.istio.io/controller-version', // the gateway controller's version stamp
  'istio.io/rev', // the revision the proxy actually connected to
]);

/**
 * Written by the injector on pods when the CNI plugin does the traffic capture, so on such pods
 * they do not reflect a user's choice.
 */
const SET_BY_INJECTOR_WITH_CNI = new Set([
  'sidecar.istio.io/interceptionMode',
  'traffic.sidecar.istio.io/includeInboundPorts',
  'traffic.sidecar.istio.io/excludeInboundPorts',
  'traffic.sidecar.istio.io/includeOutboundIPRanges',
]);

/** Without the istio-init container, traffic capture is done by the CNI plugin. */
function podUsesCni(pod: Resource): boolean {
  return !(pod.spec?.initContainers ?? []).some((c: any) => c?.name === 'istio-init');
}

function checkResource(ctx: AnalysisContext, r: Resource): void {
  const skipInjectorDefaults = r.info.id === 'Pod' && podUsesCni(r);
  for (const name of Object.keys(r.metadata.annotations ?? {})) {
    if (!isIstioAnnotation(name) || lookupAnnotation(name)?.status !== 'Alpha') continue;
    if (SET_BY_ISTIO.has(name)) continue;
    if (skipInjectorDefaults && SET_BY_INJECTOR_WITH_CNI.has(name)) continue;
    ctx.report(newMessage('IST0136', r, [name], ['metadata', 'annotations', name]));
  }
}

export const alphaAnalyzer: Analyzer = {
  name: 'annotations.AlphaAnalyzer',
  description: 'Checks for Istio annotations of alpha-stage features on Kubernetes resources',
  inputs: ['Namespace', 'Service', 'Pod', 'Deployment'],
  codes: ['IST0136'],
  defaultEnabled: false, // Istio leaves the alpha-annotation analyzer out of All()
  analyze(ctx) {
    for (const kind of ['Namespace', 'Service', 'Pod', 'Deployment'] as const) {
      for (const r of ctx.list(kind)) checkResource(ctx, r);
    }
  },
};
