import { namespaceOf } from '../../../../api/resource.js';
import type { AnalysisContext } from '../../analyzer.js';

// The services a DestinationRule host can name: ServiceEntries and Kubernetes Services, each
// under the namespace scope it is visible in ('*' for all). Mirrors Istio's analyzer view of the
// registry (util.InitServiceEntryHostMap / GetDestinationHost), which differs a little from the
// proxy's: a ServiceEntry not exported to all namespaces is keyed by its own namespace only.

export const EXPORT_ALL = '*';
const EXPORT_LOCAL = '.';
const EXPORT_TO_ANNOTATION = 'networking.istio.io/exportTo';

/** What a DestinationRule needs from the service it resolves to. */
export interface RegistryService {
  /** Labels a ServiceEntry's workloadSelector adds to every subset; empty for Kubernetes Services. */
  workloadLabels: Record<string, string>;
}

/** Map from `scope/fqdn` to the service; insertion order is kept for the wildcard pass. */
export type ServiceHosts = Map<string, RegistryService>;

/** Istio's analyzer FQDN: short names get `.ns.svc.cluster.local`; anything dotted or wildcarded stays. */
export function toFqdn(namespace: string, host: string): string {
  if (host.startsWith('*') || host.includes('.')) return host;
  return `${host}.${namespace}.svc.cluster.local`;
}

const scoped = (scope: string, namespace: string, host: string) => `${scope}/${toFqdn(namespace, host)}`;

export function isExportedToAll(exportTo: readonly string[] | undefined): boolean {
  return !exportTo || exportTo.length === 0 || exportTo.includes(EXPORT_ALL);
}

export function collectServiceHosts(ctx: AnalysisContext): ServiceHosts {
  const hosts: ServiceHosts = new Map();
  for (const se of ctx.list('ServiceEntry')) {
    const ns = namespaceOf(se);
    const scope = isExportedToAll(se.spec?.exportTo) ? EXPORT_ALL : ns;
    const svc = { workloadLabels: se.spec?.workloadSelector?.labels ?? {} };
    for (const h of se.spec?.hosts ?? []) hosts.set(scoped(scope, ns, String(h)), svc);
  }
  // A Kubernetes Service is seen as a ServiceEntry with no workload selector, visible where its
  // exportTo annotation says (everywhere without one).
  for (const s of ctx.list('Service')) {
    const ns = namespaceOf(s);
    const svc = { workloadLabels: {} };
    for (const scope of annotationScopes(s.metadata.annotations?.[EXPORT_TO_ANNOTATION], ns)) {
      hosts.set(scoped(scope, ns, s.metadata.name), svc);
    }
  }
  return hosts;
}

function annotationScopes(annotation: string | undefined, namespace: string): string[] {
  if (!annotation) return [EXPORT_ALL];
  return annotation.split(',').map((ns) => (ns === EXPORT_LOCAL ? namespace : ns));
}

/** The service a host resolves to from a namespace: exact names first, then wildcard entries. */
export function findDestination(hosts: ServiceHosts, sourceNs: string, exportTo: readonly string[] | undefined, host: string): RegistryService | undefined {
  const exact = hosts.get(scoped(EXPORT_ALL, sourceNs, host));
  if (exact) return exact;
  const scopes = exportTo && exportTo.length > 0 ? exportTo.map((e) => (e === EXPORT_LOCAL ? sourceNs : e)) : [sourceNs];
  for (const scope of scopes) {
    const found = hosts.get(scoped(scope, sourceNs, host));
    if (found) return found;
  }
  const bare = host.startsWith('*') ? host.slice(1) : host;
  for (const [key, svc] of hosts) {
    const slash = key.indexOf('/');
    const scope = key.slice(0, slash), seHost = key.slice(slash + 1);
    if (!seHost.startsWith('*')) continue;
    if (scope !== EXPORT_ALL && scope !== sourceNs) continue;
    if (bare.endsWith(seHost.slice(1))) return svc;
  }
  return undefined;
}
