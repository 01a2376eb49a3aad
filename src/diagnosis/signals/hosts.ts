// Host names as Istio resources write them, turned into the FQDNs Istio's metrics carry
// (destination_service), so a config change can be matched with the traffic it affects.

export const CLUSTER_SUFFIX = 'svc.cluster.local';

/**
 * The FQDNs a host written in a resource of namespace `ns` may stand for: a short name is the
 * service of that namespace; `name.namespace` and `name.namespace.svc` complete to the FQDN
 * (the local mesh routes those forms); anything else is taken as written (external hosts,
 * FQDNs). Wildcards are kept as written (matched by hostMatches).
 */
export function hostForms(host: unknown, ns: string): string[] {
  if (typeof host !== 'string' || host === '') return [];
  const h = host.toLowerCase().replace(/\.$/, '');
  if (h === '*') return ['*'];
  if (!h.includes('.')) return [`${h}.${ns}.${CLUSTER_SUFFIX}`];
  const parts = h.split('.');
  if (parts.length === 2) return [h, `${h}.${CLUSTER_SUFFIX}`];
  if (parts.length === 3 && parts[2] === 'svc') return [`${h}.cluster.local`];
  return [h];
}

/** Whether a host of a resource (possibly `*.example.com` or `*`) covers a traffic host. */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1));
  return pattern === host;
}

export function anyHostMatches(patterns: readonly string[], host: string): boolean {
  return patterns.some((p) => hostMatches(p, host));
}
