import type { FieldPath } from '../../../../api/resource.js';
import { checkFQDN, isDNS1123Label } from './check-hosts.js';
import type { Findings } from './findings.js';
import { list, str } from './yaml-values.js';

/**
 * Gateway references in a VirtualService: `namespace/name`, a bare name (same namespace), or
 * the legacy `name.namespace` form. Istio stops at the first reference without a slash.
 */
export function checkGatewayNames(f: Findings, path: FieldPath, names: unknown, gatewaySemantics = false): void {
  const all = list(names);
  for (let i = 0; i < all.length; i++) {
    const name = str(all[i]);
    const p = [...path, i];
    const slash = name.indexOf('/');
    if (slash < 0) {
      if (name.includes('.')) {
        const parts = name.split('.');
        f.warn(p, `gateway "${name}" uses the legacy name.namespace form; prefer namespace/name: "${parts[1]}/${parts[0]}"`);
      }
      const err = checkFQDN(name);
      if (err) f.error(p, err);
      return;
    }
    const ns = name.slice(0, slash), gw = name.slice(slash + 1);
    if (!ns || !gw) f.error(p, 'namespace and name of a gateway reference must not be empty');
    if (!isDNS1123Label(ns)) f.error(p, `invalid namespace "${ns}" in gateway reference`);
    if (!isDNS1123Label(gw) && !gatewaySemantics) f.error(p, `invalid gateway name "${gw}"`);
  }
}
