import type { Resource } from '../../../../api/resource.js';
import { namespaceOf } from '../../../../api/resource.js';
import type { AnalysisContext, Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';
import { nsName } from '../../util.js';
import {
  EXPORT_TO_ALL, EXPORT_TO_LOCAL, isMirror, mirrorDestinations, routeDestinations, scopedFqdn,
  splitScopedFqdn, visibleScopes, vsExportTo, vsGateways, vsHosts, type RoutedDestination,
} from './util.js';

// A route (or mirror) to a host that no Service or ServiceEntry defines, or that is not exported
// to the VirtualService's namespace, sends traffic nowhere (503s). A destination must also pick a
// port that exists, and must pick one at all when the service has several. Separately: on an
// ingress gateway, a route without a subset to a host whose mesh VirtualService splits by subset
// bypasses that split, because gateways apply only their own VirtualService.

const EXPORT_TO_ANNOTATION = 'networking.istio.io/exportTo';

/** What a destination can point at: a ServiceEntry, or a Kubernetes Service seen as one. */
interface KnownHost {
  ports: number[];
}

/** Namespaces a Service is visible in, from its exportTo annotation (all when absent). */
function serviceScopes(svc: Resource): string[] {
  const anno = svc.metadata.annotations?.[EXPORT_TO_ANNOTATION];
  if (anno === undefined || anno === '') return [EXPORT_TO_ALL];
  const ns = namespaceOf(svc);
  return anno.split(',').map((s) => s.trim()).map((e) => (e === EXPORT_TO_LOCAL ? ns : e));
}

/** Every host a destination may use, keyed `scope/fqdn` by the namespaces that can see it. */
function knownHosts(ctx: AnalysisContext): Map<string, KnownHost> {
  const hosts = new Map<string, KnownHost>();
  for (const se of ctx.list('ServiceEntry')) {
    const ns = namespaceOf(se);
    const known = { ports: (Array.isArray(se.spec?.ports) ? se.spec.ports : []).map((p: any) => Number(p?.number ?? 0)) };
    const seHosts: string[] = Array.isArray(se.spec?.hosts) ? se.spec.hosts.map(String) : [];
    for (const scope of visibleScopes(se.spec?.exportTo, ns)) {
      for (const h of seHosts) hosts.set(scopedFqdn(scope, ns, h), known);
    }
  }
  for (const svc of ctx.list('Service')) {
    const ns = namespaceOf(svc);
    const known = { ports: (Array.isArray(svc.spec?.ports) ? svc.spec.ports : []).map((p: any) => Number(p?.port ?? 0)) };
    for (const scope of serviceScopes(svc)) hosts.set(scopedFqdn(scope, ns, svc.metadata.name), known);
  }
  return hosts;
}

/**
 * The service a host resolves to from a VirtualService: one exported to all namespaces, else one
 * visible in the VirtualService's own exportTo namespaces, else a wildcard host covering it.
 */
function resolveHost(vs: Resource, host: string, hosts: Map<string, KnownHost>): KnownHost | undefined {
  const ns = namespaceOf(vs);
  const everywhere = hosts.get(scopedFqdn(EXPORT_TO_ALL, ns, host));
  if (everywhere) return everywhere;
  const exportTo = vsExportTo(vs);
  const scopes = exportTo.length === 0 ? [ns] : exportTo.map((e) => (e === EXPORT_TO_LOCAL ? ns : e));
  for (const scope of scopes) {
    const found = hosts.get(scopedFqdn(scope, ns, host));
    if (found) return found;
  }
  // Wildcard service hosts (`*.example.com`) last; a wildcard destination matches by its suffix.
  const suffixOfHost = host.startsWith('*') ? host.slice(1) : host;
  for (const [key, known] of hosts) {
    const { scope, fqdn } = splitScopedFqdn(key);
    if (!fqdn.startsWith('*') || (scope !== EXPORT_TO_ALL && scope !== ns)) continue;
    if (suffixOfHost.endsWith(fqdn.slice(1))) return known;
  }
  return undefined;
}

function checkPort(ctx: AnalysisContext, vs: Resource, d: RoutedDestination, known: KnownHost): void {
  const host = String(d.destination?.host ?? '');
  const path = d.hostPath;
  const port = d.destination?.port;
  if (port === undefined || port === null) {
    // Without a port the choice is ambiguous only when the service has more than one.
    if (known.ports.length > 1) ctx.report(newMessage('IST0112', vs, [host, known.ports], path));
    return;
  }
  const number = Number(port.number ?? 0);
  if (!known.ports.includes(number)) ctx.report(newMessage('IST0101', vs, ['host:port', `${host}:${number}`], path));
}

function checkDestinations(ctx: AnalysisContext, vs: Resource, hosts: Map<string, KnownHost>): void {
  for (const d of [...routeDestinations(vs), ...mirrorDestinations(vs)]) {
    const host = String(d.destination?.host ?? '');
    const known = resolveHost(vs, host, hosts);
    if (known) checkPort(ctx, vs, d, known);
    else ctx.report(newMessage('IST0101', vs, [isMirror(d) ? 'mirror host' : 'host', host], d.hostPath));
  }
}

/** For each VirtualService, its http route destinations that pick a subset of one of its own hosts. */
function subsetDestinations(virtualServices: readonly Resource[]): Map<string, any[]> {
  const out = new Map<string, any[]>();
  for (const vs of virtualServices) {
    const own = vsHosts(vs);
    for (const rule of Array.isArray(vs.spec?.http) ? vs.spec.http : []) {
      for (const rd of Array.isArray(rule?.route) ? rule.route : []) {
        const dest = rd?.destination;
        if (!dest?.subset) continue;
        for (const h of own) {
          if (dest.host !== h) continue;
          const key = nsName(vs);
          out.set(key, [...(out.get(key) ?? []), dest]);
        }
      }
    }
  }
  return out;
}

/**
 * A gateway-bound VirtualService routing to a host without a subset, while a VirtualService for
 * that host splits it by subset: the split does not apply to requests entering the gateway.
 */
function checkIngressSubsets(ctx: AnalysisContext, vs: Resource, withSubsets: Map<string, any[]>): void {
  if (vsGateways(vs).length === 0) return;
  for (const rule of Array.isArray(vs.spec?.http) ? vs.spec.http : []) {
    for (const rd of Array.isArray(rule?.route) ? rule.route : []) {
      const dest = rd?.destination;
      if (!dest || dest.subset) continue;
      for (const [splitter, dests] of withSubsets) {
        for (const d of dests) {
          // Istio looks the line up under a key that never resolves, so these keep the resource's line.
          if (d.host === dest.host) ctx.report(newMessage('IST0140', vs, [splitter, nsName(vs)]));
        }
      }
    }
  }
}

export const destinationHostAnalyzer: Analyzer = {
  name: 'virtualservice.DestinationHostAnalyzer',
  description: 'Checks that the destination hosts and ports of each VirtualService exist',
  inputs: ['ServiceEntry', 'VirtualService', 'Service'],
  codes: ['IST0101', 'IST0112', 'IST0140'],
  analyze(ctx) {
    const hosts = knownHosts(ctx);
    const virtualServices = ctx.list('VirtualService');
    const withSubsets = subsetDestinations(virtualServices);
    for (const vs of virtualServices) {
      checkDestinations(ctx, vs, hosts);
      checkIngressSubsets(ctx, vs, withSubsets);
    }
  },
};
