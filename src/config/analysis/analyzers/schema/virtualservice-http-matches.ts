import type { FieldPath } from '../../../../api/resource.js';
import { checkGatewayNames } from './check-gateway-refs.js';
import { checkHeaderNameOrJwtClaim, isJwtClaimRoute } from './check-headers.js';
import { isDNS1123Label } from './check-hosts.js';
import { checkPort } from './check-ports.js';
import { checkStringMatch } from './check-regex.js';
import { checkLabels } from './check-selectors.js';
import type { Findings } from './findings.js';
import { entries, isSet, list, num, obj, str, type Obj } from './yaml-values.js';

// The `match` conditions of VirtualService HTTP routes.

/** JWT claim routing (`@request.auth.claims.*` headers) works only on gateways. */
export function checkJwtClaimRoutes(f: Findings, spec: Obj): void {
  list(spec.http).forEach((route, i) => {
    list(obj(route)?.match).forEach((m, j) => {
      for (const field of ['headers', 'withoutHeaders']) {
        for (const [key] of entries(obj(m)?.[field])) {
          if (isJwtClaimRoute(key)) {
            f.error(['spec', 'http', i, 'match', j, field, key], `routing on JWT claim ${key} is supported only for gateways, and this VirtualService applies to the mesh`);
          }
        }
      }
    });
  });
}

export function checkMatchRequests(f: Findings, p: FieldPath, http: Obj): void {
  list(http.match).forEach((raw, i) => {
    const match = obj(raw);
    if (!match) return;
    const mp = [...p, 'match', i];
    for (const [name, header] of entries(match.headers)) {
      const hp = [...mp, 'headers', name];
      if (!isSet(header)) f.error(hp, `header match ${name} must not be null`);
      const err = checkHeaderNameOrJwtClaim(name);
      if (err) f.error(hp, err);
      checkStringMatch(f, hp, header);
    }
    for (const [name, header] of entries(match.withoutHeaders)) {
      const hp = [...mp, 'withoutHeaders', name];
      const err = checkHeaderNameOrJwtClaim(name);
      if (err) f.error(hp, err);
      // `regex: "*"` is not a regex here: it means "header present".
      if (isSet(header) && str(obj(header)?.regex) !== '*') checkStringMatch(f, hp, header);
    }
    // Envoy allows an empty URI prefix ("match everything"), not an empty scheme/method/authority prefix.
    checkStringMatch(f, [...mp, 'uri'], match.uri, true);
    checkStringMatch(f, [...mp, 'scheme'], match.scheme);
    checkStringMatch(f, [...mp, 'method'], match.method);
    checkStringMatch(f, [...mp, 'authority'], match.authority);
    for (const [name, qp] of entries(match.queryParams)) checkStringMatch(f, [...mp, 'queryParams', name], qp);

    if (num(match.port) !== 0) {
      const err = checkPort(num(match.port));
      if (err) f.error([...mp, 'port'], err);
    }
    checkLabels(f, [...mp, 'sourceLabels'], match.sourceLabels);
    checkGatewayNames(f, [...mp, 'gateways'], match.gateways);
    const sourceNamespace = str(match.sourceNamespace);
    if (sourceNamespace && !isDNS1123Label(sourceNamespace)) f.error([...mp, 'sourceNamespace'], `sourceNamespace "${sourceNamespace}" is not a valid namespace name`);
  });
}
