import type { Resource } from '../../../../api/resource.js';
import { namespaceOf } from '../../../../api/resource.js';
import type { Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';
import { fullNameString, isMirror, mirrorDestinations, resourceNameFromHost, routeDestinations } from './util.js';

// A subset exists only as a named entry in a DestinationRule for the host. A route or mirror
// naming a subset that no DestinationRule defines has no endpoints, so its traffic fails (503).

/** `ns/name#subset` of a host resolved in a namespace; the key both sides are compared on. */
function subsetKey(namespace: string, host: string, subset: string): string {
  return `${fullNameString(resourceNameFromHost(namespace, host))}#${subset}`;
}

function definedSubsets(destinationRules: readonly Resource[]): Set<string> {
  const keys = new Set<string>();
  for (const dr of destinationRules) {
    const host = String(dr.spec?.host ?? '');
    for (const ss of Array.isArray(dr.spec?.subsets) ? dr.spec.subsets : []) {
      keys.add(subsetKey(namespaceOf(dr), host, String(ss?.name ?? '')));
    }
  }
  return keys;
}

export const destinationRuleAnalyzer: Analyzer = {
  name: 'virtualservice.DestinationRuleAnalyzer',
  description: 'Checks that the subsets each VirtualService routes to are defined in a DestinationRule',
  inputs: ['VirtualService', 'DestinationRule'],
  codes: ['IST0101'],
  analyze(ctx) {
    const subsets = definedSubsets(ctx.list('DestinationRule'));
    for (const vs of ctx.list('VirtualService')) {
      for (const d of [...routeDestinations(vs), ...mirrorDestinations(vs)]) {
        const subset = String(d.destination?.subset ?? '');
        if (!subset) continue; // no subset: nothing to look up
        const host = String(d.destination?.host ?? '');
        if (subsets.has(subsetKey(namespaceOf(vs), host, subset))) continue;
        const what = isMirror(d) ? 'mirror+subset in destinationrule' : 'host+subset in destinationrule';
        ctx.report(newMessage('IST0101', vs, [what, `${host}+${subset}`], d.hostPath));
      }
    }
  },
};
