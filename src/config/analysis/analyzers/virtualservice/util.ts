import type { FieldPath, Resource } from '../../../../api/resource.js';

// Helpers shared by the VirtualService analyzers: where a VirtualService sends traffic, and the
// host-name rules Istio's analyzers use (host -> FQDN, exportTo scopes, `ns/name` references).

/** Gateway name that means "the sidecars of the mesh" rather than a Gateway resource. */
export const MESH_GATEWAY = 'mesh';
export const EXPORT_TO_ALL = '*';
export const EXPORT_TO_LOCAL = '.';
const CLUSTER_LOCAL_SUFFIX = 'svc.cluster.local';

/** One place a VirtualService sends traffic to (a route destination or a mirror). */
export interface RoutedDestination {
  /** The list it came from. Mirrors get the messages' "mirror" wording. */
  source: 'tcp' | 'tls' | 'http' | 'http.mirror' | 'http.mirrors';
  /** The `destination` object; undefined for an entry written as `{}`. */
  destination: any;
  /** Field path of `destination.host`, where Istio points its messages. */
  hostPath: FieldPath;
}

export const isMirror = (d: RoutedDestination): boolean => d.source === 'http.mirror' || d.source === 'http.mirrors';

function list(v: unknown): any[] {
  return Array.isArray(v) ? v : [];
}

/** Destinations of the tcp, tls and http routes (in that order, as Istio walks them). */
export function routeDestinations(vs: Resource): RoutedDestination[] {
  const out: RoutedDestination[] = [];
  for (const source of ['tcp', 'tls', 'http'] as const) {
    list(vs.spec?.[source]).forEach((rule, i) =>
      list(rule?.route).forEach((rd, j) =>
        out.push({ source, destination: rd?.destination, hostPath: ['spec', source, i, 'route', j, 'destination', 'host'] }),
      ),
    );
  }
  return out;
}

/** Destinations traffic is mirrored to: the single `mirror` and the newer `mirrors` list. */
export function mirrorDestinations(vs: Resource): RoutedDestination[] {
  const out: RoutedDestination[] = [];
  list(vs.spec?.http).forEach((rule, i) => {
    if (rule?.mirror) out.push({ source: 'http.mirror', destination: rule.mirror, hostPath: ['spec', 'http', i, 'mirror', 'host'] });
    list(rule?.mirrors).forEach((m, j) => {
      if (m?.destination) {
        out.push({ source: 'http.mirrors', destination: m.destination, hostPath: ['spec', 'http', i, 'mirrors', j, 'destination', 'host'] });
      }
    });
  });
  return out;
}

/** Istio's short-name expansion: `reviews` in `ns` is `reviews.ns.svc.cluster.local`; names with a dot or a wildcard stay. */
export function toFqdn(namespace: string, host: string): string {
  if (host.startsWith('*') || host.includes('.')) return host;
  return `${host}.${namespace}.${CLUSTER_LOCAL_SUFFIX}`;
}

/** A host made fully qualified and tagged with the namespace that can see it: `scope/fqdn`. */
export function scopedFqdn(scope: string, namespace: string, host: string): string {
  return `${scope}/${toFqdn(namespace, host)}`;
}

export function splitScopedFqdn(s: string): { scope: string; fqdn: string } {
  const i = s.indexOf('/');
  return { scope: s.slice(0, i), fqdn: s.slice(i + 1) };
}

/** An empty exportTo, or one that lists `*`, makes a resource visible everywhere. */
export function exportsToAll(exportTo: readonly string[] | undefined): boolean {
  return !exportTo || exportTo.length === 0 || exportTo.includes(EXPORT_TO_ALL);
}

/** The namespaces an exportTo list makes a resource visible in (`*` for all, `.` for its own). */
export function visibleScopes(exportTo: readonly string[] | undefined, ownNamespace: string): string[] {
  if (exportsToAll(exportTo)) return [EXPORT_TO_ALL];
  return [...new Set(exportTo!.map((e) => (e === EXPORT_TO_LOCAL ? ownNamespace : e)))];
}

export interface FullName {
  namespace: string;
  name: string;
}

/** `ns/name` names that namespace; a bare name is taken in the default namespace. */
export function shortOrFullName(defaultNamespace: string, ref: string): FullName {
  const i = ref.indexOf('/');
  return i < 0 ? { namespace: defaultNamespace, name: ref } : { namespace: ref.slice(0, i), name: ref.slice(i + 1) };
}

/** `ns/name`, or just `name` without a namespace (Istio's FullName.String()). */
export function fullNameString(n: FullName): string {
  return n.namespace ? `${n.namespace}/${n.name}` : n.name;
}

/**
 * The Service a destination host names: `name.ns.svc.cluster.local` names a Service in `ns`;
 * anything else is taken as written, in the referring resource's namespace.
 */
export function resourceNameFromHost(defaultNamespace: string, host: string): FullName {
  const m = /^(.+)\.(.+)\.svc\.cluster\.local$/.exec(host);
  return m ? { namespace: m[2], name: m[1] } : { namespace: defaultNamespace, name: host };
}

export function vsHosts(vs: Resource): string[] {
  return list(vs.spec?.hosts).map(String);
}

export function vsGateways(vs: Resource): string[] {
  return list(vs.spec?.gateways).map(String);
}

export function vsExportTo(vs: Resource): string[] {
  return list(vs.spec?.exportTo).map(String);
}
