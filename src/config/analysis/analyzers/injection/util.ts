import { parse as parseYaml } from 'yaml';
import { namespaceOf, type Resource } from '../../../../api/resource.js';
import type { AnalysisContext } from '../../analyzer.js';
import { ISTIO_PROXY_CONTAINER, selectorMatches } from '../../util.js';

// What the injection analyzers share: the namespace labels that turn injection on, and what the
// istio-sidecar-injector ConfigMaps (one per revision) say the injected proxy should look like.

export const INJECTION_LABEL = 'istio-injection';
export const INJECTION_ENABLED = 'enabled';
export const REVISION_LABEL = 'istio.io/rev';
export const DATAPLANE_MODE_LABEL = 'istio.io/dataplane-mode';
export const DATAPLANE_MODE_AMBIENT = 'ambient';
/** Pod-level opt-out; the label wins over the older annotation of the same name. */
export const SIDECAR_INJECT = 'sidecar.istio.io/inject';
export const PROXY_IMAGE_ANNOTATION = 'sidecar.istio.io/proxyImage';
export const PROXY_CONFIG_ANNOTATION = 'proxy.istio.io/config';
export const INJECTOR_CONFIGMAP = 'istio-sidecar-injector';

/** The injector ConfigMap of a revision: `istio-sidecar-injector`, or `istio-sidecar-injector-<rev>`. */
export function injectorConfigMapName(revision: string | undefined): string {
  return !revision || revision === 'default' ? INJECTOR_CONFIGMAP : `${INJECTOR_CONFIGMAP}-${revision}`;
}

/** The Helm values the injector was rendered with (the ConfigMap's `values` key, JSON), or undefined. */
export function injectorValues(cm: Resource): Record<string, any> | undefined {
  const text = cm.raw?.data?.values;
  if (typeof text !== 'string') return undefined;
  try {
    const v = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The proxy image the injector puts into new pods. Like the injection template: an image with a
 * `/` is a full reference, otherwise it is `<hub>/<image>:<tag>`. '' when the values are unreadable.
 */
export function injectorProxyImage(cm: Resource): string {
  const values = injectorValues(cm);
  if (!values) return '';
  const global = values.global ?? {};
  if (typeof global !== 'object' || Array.isArray(global)) return '';
  // Fields of the wrong type make the values unreadable, as a strict JSON decode would.
  const text = (v: unknown): string | undefined => (v === undefined || v === null ? '' : typeof v === 'string' ? v : undefined);
  const hub = text(global.hub), tag = text(global.tag), image = text(global.proxy?.image);
  if (hub === undefined || tag === undefined || image === undefined) return '';
  return image.includes('/') ? image : `${hub}/${image}:${tag}`;
}

/** `sidecarInjectorWebhook.enableNamespacesByDefault`: injection applies to namespaces without any label. */
export function injectsNamespacesByDefault(cm: Resource): boolean {
  return injectorValues(cm)?.sidecarInjectorWebhook?.enableNamespacesByDefault === true;
}

/** The istio-proxy container of a pod spec, whether a classic sidecar or a native (init container) one. */
export function proxyContainer(podSpec: any): any | undefined {
  const all = [...(podSpec?.containers ?? []), ...(podSpec?.initContainers ?? [])];
  return all.find((c: any) => c?.name === ISTIO_PROXY_CONTAINER);
}

/** Reads `image.imageType` from a ProxyConfig-shaped object; '' when unset. */
function imageTypeOf(config: any): string {
  const t = config?.image?.imageType;
  return typeof t === 'string' ? t : '';
}

/**
 * The proxy image variant (`distroless`, `debug`, ...) a pod gets, resolving ProxyConfig the way
 * istiod does: mesh defaultConfig, then the root-namespace ProxyConfig, then the pod's namespace,
 * then selector-matched workload ProxyConfigs, then the pod's `proxy.istio.io/config` annotation.
 * Each level overrides only if it sets a type; `default` means no suffix.
 */
export class ProxyImageTypeResolver {
  private readonly meshType: string;
  private rootType = '';
  private readonly namespaceTypes = new Map<string, string>();
  private readonly workloads: Array<{ namespace: string; matchLabels: Record<string, string>; type: string }> = [];

  constructor(ctx: AnalysisContext) {
    const mesh = ctx.list('MeshConfig')[0]?.spec ?? {};
    this.meshType = imageTypeOf(mesh.defaultConfig);
    const rootNamespace = mesh.rootNamespace || ctx.istioNamespace;
    for (const pc of ctx.list('ProxyConfig')) {
      const ns = namespaceOf(pc);
      const type = imageTypeOf(pc.spec);
      if (ns === rootNamespace) this.rootType = type;
      else if (pc.spec?.selector === undefined || pc.spec?.selector === null) this.namespaceTypes.set(ns, type);
      else this.workloads.push({ namespace: ns, matchLabels: pc.spec.selector.matchLabels ?? {}, type });
    }
  }

  imageType(pod: Resource): string {
    let variant = this.meshType;
    const override = (t: string) => {
      if (t) variant = t;
    };
    override(this.rootType);
    override(this.namespaceTypes.get(namespaceOf(pod)) ?? '');
    for (const w of this.workloads) {
      if (w.namespace === namespaceOf(pod) && selectorMatches(w.matchLabels, pod.metadata.labels)) override(w.type);
    }
    const annotation = pod.metadata.annotations?.[PROXY_CONFIG_ANNOTATION];
    if (annotation !== undefined) override(imageTypeOf(parseQuietly(annotation)));
    return variant === 'default' ? '' : variant;
  }
}

function parseQuietly(text: string): unknown {
  try {
    return parseYaml(String(text));
  } catch {
    return undefined;
  }
}
