import type { Resource } from '../../../../api/resource.js';
import { namespaceOf } from '../../../../api/resource.js';
import type { AnalysisContext, Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';
import { ISTIO_PROXY_CONTAINER } from '../../util.js';
import { labelSelectorMatches } from '../webhook/label-selector.js';

// `image: auto` on the istio-proxy container is a placeholder that only the injection webhook
// replaces (gateway injection templates rely on it). A Pod that still shows `auto` was not
// injected and cannot start; a Deployment whose pods no Istio webhook selects will produce such
// Pods.

const AUTO_IMAGE = 'auto';

function hasAutoImage(podSpec: any): boolean {
  return (podSpec?.containers ?? []).some((c: any) => c?.name === ISTIO_PROXY_CONTAINER && c?.image === AUTO_IMAGE);
}

/** Istio's injection webhooks are the ones whose name ends in `istio.io`. */
function istioWebhooks(ctx: AnalysisContext): any[] {
  return ctx
    .list('MutatingWebhookConfiguration')
    .flatMap((cfg) => (Array.isArray(cfg.raw?.webhooks) ? cfg.raw.webhooks : []))
    .filter((wh: any) => typeof wh?.name === 'string' && wh.name.endsWith('istio.io'));
}

/** Labels of the deployment's namespace (an unset namespace is `default`); none if the Namespace is unknown. */
function namespaceLabels(ctx: AnalysisContext, r: Resource): Record<string, string> | undefined {
  return ctx.get('Namespace', '', namespaceOf(r) || 'default')?.metadata.labels;
}

export const imageAutoAnalyzer: Analyzer = {
  name: 'injection.ImageAutoAnalyzer',
  description: 'Checks that Pods and Deployments with `image: auto` are going to be injected',
  inputs: ['Namespace', 'Pod', 'Deployment', 'MutatingWebhookConfiguration'],
  codes: ['IST0146', 'IST0147'],
  analyze(ctx) {
    const webhooks = istioWebhooks(ctx);
    // A running Pod has already been through admission: `auto` left in place means it was not injected.
    for (const pod of ctx.list('Pod')) {
      if (hasAutoImage(pod.spec)) ctx.report(newMessage('IST0147', pod, ['Pod', pod.metadata.name]));
    }
    for (const d of ctx.list('Deployment')) {
      const template = d.spec?.template;
      if (!hasAutoImage(template?.spec)) continue;
      const nsLabels = namespaceLabels(ctx, d);
      const podLabels = template?.metadata?.labels;
      const selected = webhooks.some(
        (wh) => labelSelectorMatches(wh.namespaceSelector, nsLabels) && labelSelectorMatches(wh.objectSelector, podLabels),
      );
      if (!selected) ctx.report(newMessage('IST0146', d, ['Deployment', d.metadata.name]));
    }
  },
};
