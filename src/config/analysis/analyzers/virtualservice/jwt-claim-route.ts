import type { Resource } from '../../../../api/resource.js';
import { namespaceOf } from '../../../../api/resource.js';
import type { Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';
import { selectorMatches } from '../../util.js';
import { fullNameString, MESH_GATEWAY, shortOrFullName, vsGateways } from './util.js';

// Routing on a JWT claim (`@request.auth.claims.<name>` header matches) only works where a
// RequestAuthentication has validated the token and extracted its claims. On a gateway pod that
// no RequestAuthentication selects, the claim is never present and the route never matches.

const JWT_CLAIM_HEADER = '@request.auth.claims';

/** `@request.auth.claims.a.b` or `@request.auth.claims[a][b]` name a claim; the bare prefix does not. */
function isClaimHeader(header: string): boolean {
  if (!header.toLowerCase().startsWith(JWT_CLAIM_HEADER)) return false;
  const rest = header.slice(JWT_CLAIM_HEADER.length);
  if (rest.startsWith('.')) return rest.length > 1;
  return rest.startsWith('[') && rest.endsWith(']') && rest.length > 2;
}

/** The first header match key that routes on a JWT claim, if any. */
function claimRouteKey(vs: Resource): string | undefined {
  for (const rule of Array.isArray(vs.spec?.http) ? vs.spec.http : []) {
    for (const match of Array.isArray(rule?.match) ? rule.match : []) {
      for (const headers of [match?.headers, match?.withoutHeaders]) {
        const key = Object.keys(headers ?? {}).find(isClaimHeader);
        if (key !== undefined) return key;
      }
    }
  }
  return undefined;
}

type Labels = Record<string, string> | undefined;

export const jwtClaimRouteAnalyzer: Analyzer = {
  name: 'virtualservice.JWTClaimRouteAnalyzer',
  description: 'Checks that gateways used by VirtualServices routing on JWT claims have a RequestAuthentication',
  inputs: ['VirtualService', 'RequestAuthentication', 'Gateway', 'Pod'],
  codes: ['IST0149'],
  analyze(ctx) {
    // RequestAuthentication selectors by namespace; those in the Istio namespace apply mesh-wide.
    const selectorsByNs = new Map<string, Labels[]>();
    for (const ra of ctx.list('RequestAuthentication')) {
      const ns = namespaceOf(ra);
      selectorsByNs.set(ns, [...(selectorsByNs.get(ns) ?? []), ra.spec?.selector?.matchLabels]);
    }
    const authenticated = (pod: Resource): boolean => {
      const selectors = [...(selectorsByNs.get(ctx.istioNamespace) ?? []), ...(selectorsByNs.get(namespaceOf(pod)) ?? [])];
      return selectors.some((s) => selectorMatches(s, pod.metadata.labels));
    };

    for (const vs of ctx.list('VirtualService')) {
      const key = claimRouteKey(vs);
      if (key === undefined) continue;
      for (const ref of vsGateways(vs)) {
        if (ref === MESH_GATEWAY) continue;
        const target = shortOrFullName(namespaceOf(vs), ref);
        const gw = ctx.get('Gateway', target.namespace, target.name);
        if (!gw) continue; // a missing gateway is the GatewayAnalyzer's finding
        for (const pod of ctx.list('Pod')) {
          if (!selectorMatches(gw.spec?.selector, pod.metadata.labels) || authenticated(pod)) continue;
          // The gateway goes last: the message names the key and the pod; the gateway keeps
          // findings for two gateways selecting one pod apart once the wording includes it.
          ctx.report(newMessage('IST0149', vs, [key, pod.metadata.name, fullNameString(target)]));
        }
      }
    }
  },
};
