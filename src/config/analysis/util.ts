import { namespaceOf, type Resource } from '../../api/resource.js';

// Small helpers that several analyzers share (Istio's analyzers/util package, our own code).

export const ISTIO_PROXY_CONTAINER = 'istio-proxy';
export const ISTIO_OPERATOR_CONTAINER = 'istio-operator';
export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

/** Istio's own control plane (istiod, its gateways), recognised by an `istio` label or `release: istio`; several analyzers skip it. */
export function isIstioControlPlane(r: Resource): boolean {
  const labels = r.metadata.labels ?? {};
  return labels['istio'] !== undefined || labels['release'] === 'istio';
}

/** Kubernetes equality-based selector: every key/value of the selector is in the labels. */
export function selectorMatches(selector: Record<string, string> | undefined | null, labels: Record<string, string> | undefined): boolean {
  if (!selector) return true;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector)) if (l[k] !== v) return false;
  return true;
}

/** Labels of a Pod or of a Deployment's pod template. */
export function podLabels(r: Resource): Record<string, string> {
  if (r.info.id === 'Deployment') return r.spec?.template?.metadata?.labels ?? {};
  return r.metadata.labels ?? {};
}

/** A short host (`reviews`, `reviews.ns`) made fully qualified in a namespace (`reviews.ns.svc.cluster.local`). */
export function hostToFqdn(host: string, namespace: string, domain = DEFAULT_CLUSTER_DOMAIN): string {
  if (host === '*' || host.includes('.')) {
    // `name.ns` with exactly one dot is a Kubernetes short form; anything longer is already a FQDN.
    const parts = host.split('.');
    if (parts.length === 2 && !host.startsWith('*')) return `${host}.svc.${domain}`;
    return host;
  }
  return `${host}.${namespace}.svc.${domain}`;
}

export function serviceFqdn(svc: Resource, domain = DEFAULT_CLUSTER_DOMAIN): string {
  return `${svc.metadata.name}.${namespaceOf(svc)}.svc.${domain}`;
}

/** Istio host matching with wildcards: `*.foo.com` matches `bar.foo.com`; `*` matches all. */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === host || pattern === '*') return true;
  if (pattern.startsWith('*')) return host.endsWith(pattern.slice(1));
  return false;
}

/** True when either host name (with wildcards) covers the other: Istio's `Name.Matches` in either direction. */
export function hostsOverlap(a: string, b: string): boolean {
  return hostMatches(a, b) || hostMatches(b, a);
}

/** The `namespace/name` key used by many messages. */
export function nsName(r: Resource): string {
  const ns = namespaceOf(r);
  return ns ? `${ns}/${r.metadata.name}` : r.metadata.name;
}

/** A pod has a sidecar when it carries a container named istio-proxy (injected or in the spec). */
export function hasSidecar(pod: Resource): boolean {
  return (pod.spec?.containers ?? []).some((c: any) => c?.name === ISTIO_PROXY_CONTAINER);
}
