import type { Resource } from '../../../../api/resource.js';
import { namespaceOf } from '../../../../api/resource.js';
import type { AnalysisContext, Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';
import { ISTIO_PROXY_CONTAINER } from '../../util.js';
import {
  INJECTION_ENABLED,
  INJECTION_LABEL,
  INJECTOR_CONFIGMAP,
  PROXY_IMAGE_ANNOTATION,
  REVISION_LABEL,
  ProxyImageTypeResolver,
  injectorConfigMapName,
  injectorProxyImage,
} from './util.js';

// After an upgrade the injector hands out a new proxy image, but running pods keep the one they
// were injected with until they restart. Old proxies can mis-handle newer config, so pods whose
// istio-proxy image differs from what their revision's injector would use now are listed, one
// message per namespace.

/** Proxy image of every injector ConfigMap (default and revisioned), by ConfigMap name. */
function injectorImages(ctx: AnalysisContext): Map<string, string> {
  const images = new Map<string, string>();
  for (const cm of ctx.list('ConfigMap')) {
    if (cm.metadata.name.startsWith(INJECTOR_CONFIGMAP)) images.set(cm.metadata.name, injectorProxyImage(cm));
  }
  return images;
}

/** Injected namespaces and the injector ConfigMap that serves each (by its revision label). */
function injectedNamespaces(ctx: AnalysisContext): Map<string, { ns: Resource; configMap: string }> {
  const out = new Map<string, { ns: Resource; configMap: string }>();
  for (const ns of ctx.list('Namespace')) {
    const labels = ns.metadata.labels ?? {};
    const revision = labels[REVISION_LABEL];
    if (revision !== undefined) out.set(ns.metadata.name, { ns, configMap: injectorConfigMapName(revision) });
    else if (labels[INJECTION_LABEL] === INJECTION_ENABLED) out.set(ns.metadata.name, { ns, configMap: injectorConfigMapName(undefined) });
  }
  return out;
}

/** The image matches when equal to the injector's, or to its variant form (`<image>-distroless`). */
function proxyImageMatches(actual: unknown, expected: string, variant: string): boolean {
  return actual === expected || actual === `${expected}-${variant}`;
}

export const imageAnalyzer: Analyzer = {
  name: 'injection.ImageAnalyzer',
  description: 'Checks that the proxies running in injected pods use the image the injector configures now',
  inputs: ['Namespace', 'Pod', 'ConfigMap', 'MeshConfig', 'ProxyConfig'],
  codes: ['IST0158'],
  analyze(ctx) {
    const images = injectorImages(ctx);
    if (images.size === 0) return;
    const namespaces = injectedNamespaces(ctx);
    const resolver = new ProxyImageTypeResolver(ctx);
    const stale = new Map<string, string[]>();

    for (const pod of ctx.list('Pod')) {
      const target = namespaces.get(namespaceOf(pod));
      if (!target) continue;
      // An explicit proxy image annotation always overrides the injector.
      if (pod.metadata.annotations?.[PROXY_IMAGE_ANNOTATION]) continue;
      const expected = images.get(target.configMap);
      if (expected === undefined) continue; // that revision's injector is not in the input
      const variant = resolver.imageType(pod);
      const proxies = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].filter((c: any) => c?.name === ISTIO_PROXY_CONTAINER);
      for (const c of proxies) {
        if (!proxyImageMatches(c.image ?? '', expected, variant)) {
          const list = stale.get(namespaceOf(pod)) ?? [];
          list.push(pod.metadata.name);
          stale.set(namespaceOf(pod), list);
        }
      }
    }

    for (const [ns, pods] of stale) ctx.report(newMessage('IST0158', namespaces.get(ns)!.ns, [pods]));
  },
};
