import type { Resource } from '../../../../api/resource.js';
import { checkRegex } from './check-regex.js';
import { alphaWorkloadSelectorErrors } from './check-selectors.js';
import type { Findings } from './findings.js';
import { isSet, list, obj, str } from './yaml-values.js';

// EnvoyFilter rules (Istio's ValidateEnvoyFilter): every patch needs applyTo, an operation and
// (unless it removes) a value, and its match must fit what it applies to. Istio also warns on
// every EnvoyFilter that it depends on Envoy internals that change between releases.
// Not ported: decoding the patch value as the Envoy proto it targets (that needs Envoy's
// descriptors), so unknown fields and deprecated filter types inside values are not found.

const LISTENER_OBJECTS = new Set(['LISTENER', 'FILTER_CHAIN', 'NETWORK_FILTER', 'HTTP_FILTER']);
const ROUTE_OBJECTS = new Set(['ROUTE_CONFIGURATION', 'VIRTUAL_HOST', 'HTTP_ROUTE']);
const HTTP_CONNECTION_MANAGER = new Set(['envoy.filters.network.http_connection_manager', 'envoy.http_connection_manager']);

export function validateEnvoyFilter(r: Resource, f: Findings): void {
  const spec = obj(r.spec) ?? {};
  const selector = alphaWorkloadSelectorErrors(['spec', 'workloadSelector'], spec.workloadSelector);
  if (selector.errors.length) {
    for (const [p, text] of selector.errors) f.error(p, text);
    return;
  }
  f.warn([], 'EnvoyFilter exposes Envoy internals that may change in any release; prefer other APIs where possible and take extra care on upgrades');
  if (selector.empty) f.warn(['spec', 'workloadSelector'], 'workloadSelector has no labels, so the EnvoyFilter applies to all workloads in the namespace');

  list(spec.configPatches).forEach((raw, i) => {
    const p = ['spec', 'configPatches', i];
    const cp = obj(raw);
    if (!cp) return f.error(p, 'config patch must not be null');
    const applyTo = str(cp.applyTo) || 'INVALID';
    if (applyTo === 'INVALID') return f.error([...p, 'applyTo'], 'applyTo is missing');
    const patch = obj(cp.patch);
    if (!patch) return f.error(p, 'patch is missing');
    const operation = str(patch.operation) || 'INVALID';
    if (operation === 'INVALID') return f.error([...p, 'patch', 'operation'], 'patch operation is missing');
    if (operation !== 'REMOVE' && !isSet(patch.value)) return f.error([...p, 'patch'], `patch value is missing (needed by operation ${operation})`);

    const match = obj(cp.match);
    const proxyVersion = str(obj(match?.proxy)?.proxyVersion);
    if (proxyVersion !== '') {
      const err = checkRegex(proxyVersion);
      if (err) return f.error([...p, 'match', 'proxy', 'proxyVersion'], `invalid proxyVersion regex: ${err}`);
    }
    if (!match) return;
    const hasObjectMatch = isSet(match.listener) || isSet(match.routeConfiguration) || isSet(match.cluster);
    if (LISTENER_OBJECTS.has(applyTo) && hasObjectMatch) {
      const listener = obj(match.listener);
      if (!listener) return f.error([...p, 'match'], `applyTo ${applyTo} needs a listener match`);
      const filter = obj(obj(listener.filterChain)?.filter);
      if (!filter) return;
      const fp = [...p, 'match', 'listener', 'filterChain', 'filter'];
      if (applyTo === 'LISTENER' || applyTo === 'FILTER_CHAIN') f.warn(fp, `a filter match has no effect with applyTo ${applyTo}`);
      if (str(filter.name) === '') return f.error(fp, 'filter match needs a name');
      const sub = obj(filter.subFilter);
      if (sub) {
        if (applyTo !== 'HTTP_FILTER') return f.error([...fp, 'subFilter'], 'a subFilter match works only with applyTo HTTP_FILTER');
        if (!HTTP_CONNECTION_MANAGER.has(str(filter.name))) return f.error([...fp, 'subFilter'], 'a subFilter match needs the filter match envoy.filters.network.http_connection_manager');
        if (str(sub.name) === '') return f.error([...fp, 'subFilter'], 'subFilter match needs a name');
      }
    } else if (ROUTE_OBJECTS.has(applyTo) && hasObjectMatch) {
      if (!isSet(match.routeConfiguration)) f.error([...p, 'match'], `applyTo ${applyTo} needs a routeConfiguration match`);
    } else if (applyTo === 'CLUSTER' && hasObjectMatch) {
      if (!isSet(match.cluster)) f.error([...p, 'match'], 'applyTo CLUSTER needs a cluster match');
    }
  });
}
