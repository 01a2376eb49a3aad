import type { RouteMatch, StringMatch } from '../../api/snapshot.js';
import type { Notes } from './notes.js';

// Istio's HTTPMatchRequest -> the proxy's RouteMatch, field by field. Conditions that depend
// only on who the proxy is (sourceLabels, sourceNamespace, gateways, port) are decided here,
// at translation time, as istiod does; the ones kept in the match then always hold for this
// proxy and are there for proxy-config readers.

export interface MatchScope {
  labels: Record<string, string>; // the proxy's workload labels
  namespace: string; // the proxy's namespace
  port: number; // the service port of the virtual host being built
  vsGateways: readonly string[]; // the VirtualService's `gateways` (empty: mesh only)
}

/** True when this match can ever hold for this proxy on this port. */
export function matchApplies(m: any, scope: MatchScope): boolean {
  const gateways: string[] = Array.isArray(m?.gateways) && m.gateways.length ? m.gateways : [...scope.vsGateways];
  if (gateways.length && !gateways.includes('mesh')) return false;
  if (typeof m?.port === 'number' && m.port !== 0 && m.port !== scope.port) return false;
  if (m?.sourceNamespace && m.sourceNamespace !== scope.namespace) return false;
  for (const [k, v] of Object.entries((m?.sourceLabels ?? {}) as Record<string, string>)) if (scope.labels[k] !== v) return false;
  return true;
}

export function toRouteMatch(m: any, origin: string, notes: Notes): RouteMatch {
  const out: RouteMatch = {};
  if (!m || typeof m !== 'object') return out;
  const uri = stringMatch(m.uri);
  if (uri) out.uri = uri;
  const scheme = stringMatch(m.scheme);
  if (scheme) out.scheme = scheme;
  const method = stringMatch(m.method);
  if (method) out.method = method;
  const authority = stringMatch(m.authority);
  if (authority) out.authority = authority;
  const headers = headerMatches(m.headers);
  if (headers) out.headers = headers;
  const without = headerMatches(m.withoutHeaders);
  if (without) out.withoutHeaders = without;
  if (m.queryParams && typeof m.queryParams === 'object') {
    const q: NonNullable<RouteMatch['queryParams']> = {};
    for (const [name, v] of Object.entries(m.queryParams as Record<string, any>)) {
      const sm = stringMatch(v);
      if (!sm) q[name] = { present: true };
      else if ('prefix' in sm) {
        // Istio's query parameter matching knows exact and regex only; a prefix is one regex away.
        notes.add(origin, `queryParams.${name}.prefix is not a query parameter match in Istio; matched as the regex ^prefix.*`);
        q[name] = { regex: `${escapeRegex(sm.prefix)}.*` };
      } else q[name] = sm;
    }
    out.queryParams = q;
  }
  if (typeof m.port === 'number' && m.port !== 0) out.port = m.port;
  if (m.sourceLabels && Object.keys(m.sourceLabels).length) out.sourceLabels = { ...m.sourceLabels };
  if (m.sourceNamespace) out.sourceNamespace = m.sourceNamespace;
  if (m.ignoreUriCase === true) out.ignoreUriCase = true;
  if (m.statPrefix !== undefined) notes.add(origin, 'match.statPrefix is not implemented yet; ignored');
  return out;
}

/** Istio StringMatch: exactly one of exact, prefix, regex; none set means "any value". */
export function stringMatch(v: any): StringMatch | undefined {
  if (!v || typeof v !== 'object') return undefined;
  if (typeof v.exact === 'string') return { exact: v.exact };
  if (typeof v.prefix === 'string') return { prefix: v.prefix };
  if (typeof v.regex === 'string') return { regex: v.regex };
  return undefined;
}

/** Header names are lower-cased (HTTP/2 and Envoy compare them so); an empty match means "present". */
function headerMatches(headers: any): Record<string, StringMatch | { present: true }> | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const out: Record<string, StringMatch | { present: true }> = {};
  for (const [name, v] of Object.entries(headers as Record<string, any>)) out[name.toLowerCase()] = stringMatch(v) ?? { present: true };
  return Object.keys(out).length ? out : undefined;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
