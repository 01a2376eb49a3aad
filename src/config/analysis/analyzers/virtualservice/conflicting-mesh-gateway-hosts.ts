import type { Resource } from '../../../../api/resource.js';
import { namespaceOf } from '../../../../api/resource.js';
import type { Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';
import { hostsOverlap, nsName } from '../../util.js';
import {
  EXPORT_TO_ALL, MESH_GATEWAY, scopedFqdn, splitScopedFqdn, visibleScopes, vsExportTo, vsGateways, vsHosts,
} from './util.js';

// Sidecars merge no VirtualServices: when two VirtualServices bound to the mesh gateway claim
// the same host for the same namespaces, only one of them takes effect and which one is
// undefined. Hosts are compared per visibility scope (exportTo), and a host exported to all
// namespaces also clashes with a matching host (wildcards included) seen in one namespace.

/** A VirtualService without gateways is bound to the mesh; otherwise it must list `mesh`. */
function boundToMesh(vs: Resource): boolean {
  const gateways = vsGateways(vs);
  return gateways.length === 0 || gateways.includes(MESH_GATEWAY);
}

/** Mesh-bound VirtualServices by `scope/fqdn` of each host, one entry per host they list. */
function meshHostClaims(virtualServices: readonly Resource[]): Map<string, Resource[]> {
  const claims = new Map<string, Resource[]>();
  for (const vs of virtualServices) {
    if (!boundToMesh(vs)) continue;
    const ns = namespaceOf(vs);
    for (const scope of visibleScopes(vsExportTo(vs), ns)) {
      for (const host of vsHosts(vs)) {
        const key = scopedFqdn(scope, ns, host);
        const l = claims.get(key);
        if (l) l.push(vs);
        else claims.set(key, [vs]);
      }
    }
  }
  return claims;
}

/** VirtualServices exported to all namespaces whose host overlaps this one. */
function exportedToAllClaimsOn(fqdn: string, claims: Map<string, Resource[]>): Resource[] {
  const out: Resource[] = [];
  for (const [key, list] of claims) {
    const other = splitScopedFqdn(key);
    if (other.scope === EXPORT_TO_ALL && hostsOverlap(fqdn, other.fqdn)) out.push(...list);
  }
  return out;
}

export const conflictingMeshGatewayHostsAnalyzer: Analyzer = {
  name: 'virtualservice.ConflictingMeshGatewayHostsAnalyzer',
  description: 'Checks that VirtualServices bound to the mesh gateway do not define the same host',
  inputs: ['VirtualService'],
  codes: ['IST0109'],
  analyze(ctx) {
    const claims = meshHostClaims(ctx.list('VirtualService'));
    // A VirtualService is reported once, for the first conflict found, like Istio does.
    const reported = new Set<Resource>();
    for (const [key, list] of claims) {
      const { scope, fqdn } = splitScopedFqdn(key);
      const group = scope === EXPORT_TO_ALL ? list : [...list, ...exportedToAllClaimsOn(fqdn, claims)];
      if (group.length < 2) continue;
      const names = group.map(nsName).join(',');
      for (const vs of group) {
        if (reported.has(vs)) continue;
        reported.add(vs);
        ctx.report(newMessage('IST0109', vs, [names, key], ['metadata', 'name']));
      }
    }
  },
};
