import type { Resource } from '../../../../api/resource.js';
import type { Analyzer } from '../../analyzer.js';
import { newMessage, type Message } from '../../message.js';

// EnvoyFilter patches are applied in order, and relative operations (INSERT_BEFORE/AFTER,
// REPLACE, REMOVE) depend on what earlier patches produced; without a priority that order is
// creation time, which is fragile, and more so when a patch matches a proxyVersion (the order
// shifts on upgrade). Some operation/applyTo pairs are silently ignored by istiod: ADD or REMOVE
// on ROUTE_CONFIGURATION/HTTP_ROUTE, and REPLACE outside HTTP_FILTER, NETWORK_FILTER, VIRTUAL_HOST.

const ROUTE_LEVEL = new Set(['ROUTE_CONFIGURATION', 'HTTP_ROUTE']);
const REPLACEABLE = new Set(['HTTP_FILTER', 'NETWORK_FILTER', 'VIRTUAL_HOST']);

/** The filter a patch is about: its value's name, else the listener filter it matches. */
function filterName(patch: any): string {
  const value = patch.patch?.value;
  if (value === null || typeof value !== 'object') return '';
  if (value.name !== undefined) return String(value.name);
  const filterChain = patch.match?.listener?.filterChain;
  return filterChain ? String(filterChain.filter?.name ?? '') : '';
}

/**
 * Checks one EnvoyFilter. `versionedNames` holds the filter names that earlier patches (in this
 * and earlier EnvoyFilters) patched under a proxyVersion match; this function adds to it.
 */
function checkEnvoyFilter(ef: Resource, versionedNames: Set<string>, report: (m: Message) => void): void {
  const hasPriority = Number(ef.spec?.priority ?? 0) !== 0;
  const patches: any[] = ef.spec?.configPatches ?? [];
  for (let i = 0; i < patches.length; i++) {
    const p = patches[i] ?? {};
    // A patch without its patch section ends the check of this EnvoyFilter, as in Istio.
    if (p.patch == null) break;
    const name = filterName(p);
    const path = ['spec', 'configPatches', i, 'patch', 'value'];
    const relative = () => {
      if (hasPriority) return;
      report(newMessage(versionedNames.has(name) ? 'IST0155' : 'IST0151', ef, [], path));
    };

    switch (p.patch.operation) {
      case 'ADD':
        if (ROUTE_LEVEL.has(p.applyTo)) report(newMessage('IST0153', ef, [], path));
        break;
      case 'REMOVE':
        if (ROUTE_LEVEL.has(p.applyTo)) report(newMessage('IST0154', ef, [], path));
        else relative();
        break;
      case 'REPLACE':
        if (!REPLACEABLE.has(p.applyTo)) report(newMessage('IST0152', ef, [], path));
        else relative();
        break;
      case 'INSERT_BEFORE':
      case 'INSERT_AFTER':
        relative();
        break;
      default:
        break; // INSERT_FIRST and MERGE do not depend on other patches' order
    }
    if ((p.match?.proxy?.proxyVersion ?? '') !== '') versionedNames.add(name);
  }
}

export const envoyPatchAnalyzer: Analyzer = {
  name: 'envoyfilter.EnvoyPatchAnalyzer',
  description: 'Checks an EnvoyFilter\'s patches for relative operations without a priority and for operations istiod ignores',
  inputs: ['EnvoyFilter'],
  codes: ['IST0151', 'IST0152', 'IST0153', 'IST0154', 'IST0155'],
  analyze(ctx) {
    const versionedNames = new Set<string>();
    for (const ef of ctx.list('EnvoyFilter')) checkEnvoyFilter(ef, versionedNames, (m) => ctx.report(m));
  },
};
