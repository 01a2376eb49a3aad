import { CLUSTER_DOMAIN } from '../services.js';

// Host names as Istio's sidecars see them: short names in rules, the Host/authority forms a
// virtual host answers, and wildcard matching.

/**
 * Istio's ResolveShortnameToFQDN: a name without a dot is completed with the rule's namespace
 * (`reviews` in bookinfo -> `reviews.bookinfo.svc.cluster.local`); a name with a dot is taken
 * as written, so `reviews.bookinfo` names no Kubernetes service (as in Istio).
 */
export function resolveHost(host: string, namespace: string): string {
  if (host === '*' || host.includes('.')) return host;
  return `${host}.${namespace}.svc.${CLUSTER_DOMAIN}`;
}

/** Istio's host.Name.Matches: equal, or `*.foo.com` covering `bar.foo.com` (and `*.bar.foo.com`); `*` covers all. */
export function hostCovers(pattern: string, host: string): boolean {
  if (pattern === host || pattern === '*') return true;
  if (pattern.startsWith('*')) return host.endsWith(pattern.slice(1));
  return false;
}

/**
 * The authorities a virtual host for (hostname, port) answers, for a proxy in `proxyNamespace`,
 * as Istio builds them for its HTTP-proxy route configuration (the sidecar as the app's HTTP
 * proxy, which is how meshmedic's apps reach services):
 * - the hostname and hostname:port;
 * - for Kubernetes names (`name.ns.svc.cluster.local`): `name.ns.svc`, `name.ns`, and `name`
 *   when the proxy is in the same namespace (Kubernetes DNS search paths), each with and without port;
 * - only port 80 keeps the forms without a port: an authority without a port means port 80.
 */
export function virtualHostDomains(hostname: string, port: number, proxyNamespace: string): string[] {
  const out = [hostname, `${hostname}:${port}`];
  const suffix = `.svc.${CLUSTER_DOMAIN}`;
  if (hostname.endsWith(suffix)) {
    const nameNs = hostname.slice(0, -suffix.length);
    const dot = nameNs.indexOf('.');
    if (dot > 0) {
      if (nameNs.slice(dot + 1) === proxyNamespace) out.push(nameNs.slice(0, dot), `${nameNs.slice(0, dot)}:${port}`);
      out.push(`${nameNs}.svc`, `${nameNs}.svc:${port}`, nameNs, `${nameNs}:${port}`);
    }
  }
  return port === 80 ? out : out.filter((d) => d.includes(':'));
}

/** Istio's cluster naming: `outbound|9080|v1|reviews.bookinfo.svc.cluster.local`, `inbound|9080||`. */
export function clusterName(direction: 'inbound' | 'outbound', port: number, subset: string | undefined, host: string): string {
  return `${direction}|${port}|${subset ?? ''}|${host}`;
}
