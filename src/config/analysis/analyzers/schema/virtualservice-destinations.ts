import type { FieldPath } from '../../../../api/resource.js';
import { checkHeaderOperations } from './check-headers.js';
import { checkWildcardDomain, isDNS1123Label } from './check-hosts.js';
import { checkPort } from './check-ports.js';
import type { Findings } from './findings.js';
import { isSet, list, num, obj, str } from './yaml-values.js';

// Where VirtualService routes send traffic: the weighted destinations of HTTP, TLS and TCP
// routes. checkDestination is also used for Sidecar egress.

/** Weighted destinations of an HTTP, TLS or TCP route; only HTTP destinations have header operations. */
export function checkRouteDestinations(f: Findings, p: FieldPath, route: unknown, gatewaySemantics: boolean, http: boolean): void {
  const dests = list(route);
  let total = 0;
  dests.forEach((raw, i) => {
    const dp = [...p, i];
    const d = obj(raw);
    if (!d) {
      f.error(dp, 'route destination must not be null');
      return;
    }
    if (!isSet(d.destination)) f.error(dp, 'a route destination needs a destination');
    if (http) checkHeaderOperations(f, [...dp, 'headers'], d.headers);
    if (!gatewaySemantics) checkDestination(f, [...dp, 'destination'], d.destination);
    total += checkWeight(f, [...dp, 'weight'], d.weight);
  });
  // Istio normalizes weights, so they need not add up to 100; they must not all be 0.
  if (dests.length > 1 && total === 0) f.error(p, 'the total weight of the route destinations is 0');
}

function checkWeight(f: Findings, path: FieldPath, v: unknown): number {
  const w = num(v);
  if (w < 0) f.error(path, `weight ${w} must not be negative`);
  return w;
}

/** A destination: a service host (never `*`), an optional DNS-label subset and a valid port. */
export function checkDestination(f: Findings, p: FieldPath, raw: unknown): void {
  const d = obj(raw);
  if (!d) return;
  const host = str(d.host);
  if (host === '*') f.error([...p, 'host'], 'destination host * is not allowed');
  else {
    const err = checkWildcardDomain(host);
    if (err) f.error([...p, 'host'], err);
  }
  const subset = str(d.subset);
  if (subset !== '' && !isDNS1123Label(subset)) f.error([...p, 'subset'], `subset name "${subset}" is not a DNS-1123 label`);
  if (isSet(d.port)) {
    const err = checkPort(num(obj(d.port)?.number));
    if (err) f.error([...p, 'port', 'number'], err);
  }
}
