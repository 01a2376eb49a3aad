import type { IncomingHttpHeaders } from 'node:http';
import type { ProxyNode, RouteMatch, StringMatch } from '../../api/snapshot.js';
import type { HttpStream } from '../http-stream.js';
import { compileStringMatch, type StringPredicate } from './string-match.js';

// A RouteMatch (one Istio HTTPMatchRequest) compiled once per snapshot into one predicate:
// every condition must hold. Conditions on the caller (sourceLabels, sourceNamespace) are
// constant for a proxy, so they are decided here, as istiod does when it builds routes.

export type StreamPredicate = (s: HttpStream) => boolean;

/** How much of the path a match covers, for Envoy's prefix rewrite: the prefix, or the whole path. */
export interface CompiledMatch {
  test: StreamPredicate;
  /** Length of the matched prefix; -1 when the match covers the whole path (exact, regex). */
  prefixLength: number;
}

const ALWAYS: StreamPredicate = () => true;

/** Null when the match can never hold for this proxy (source conditions). */
export function compileRouteMatch(m: RouteMatch, node: ProxyNode): CompiledMatch | null {
  if (m.sourceNamespace !== undefined && m.sourceNamespace !== node.namespace) return null;
  if (m.sourceLabels) {
    for (const [k, v] of Object.entries(m.sourceLabels)) if (node.labels[k] !== v) return null;
  }
  const conds: StreamPredicate[] = [];
  let prefixLength = 1; // no uri match: Envoy's default match is prefix "/"
  if (m.uri) {
    const ic = m.ignoreUriCase === true;
    if ('prefix' in m.uri) {
      prefixLength = m.uri.prefix.length;
      const p = compileStringMatch(m.uri, ic);
      conds.push((s) => p(s.path)); // Envoy's prefix runs on the whole :path
    } else {
      prefixLength = -1;
      const p = compileStringMatch(m.uri, ic);
      conds.push((s) => p(s.pathLength === s.path.length ? s.path : s.path.slice(0, s.pathLength)));
    }
  }
  if (m.method) {
    const p = compileStringMatch(m.method);
    conds.push((s) => p(s.method));
  }
  if (m.authority) {
    const p = compileStringMatch(m.authority);
    conds.push((s) => p(s.authority));
  }
  if (m.scheme) {
    const p = compileStringMatch(m.scheme);
    conds.push((s) => p(s.scheme));
  }
  if (m.port !== undefined) {
    const port = m.port;
    conds.push((s) => s.port === port);
  }
  for (const [name, hm] of Object.entries(m.headers ?? {})) conds.push(headerCondition(name.toLowerCase(), hm, false));
  for (const [name, hm] of Object.entries(m.withoutHeaders ?? {})) conds.push(headerCondition(name.toLowerCase(), hm, true));
  for (const [name, qm] of Object.entries(m.queryParams ?? {})) {
    if ('present' in qm) conds.push((s) => s.queryParam(name) !== undefined);
    else {
      const p = compileStringMatch(qm as StringMatch);
      conds.push((s) => {
        const v = s.queryParam(name);
        return v !== undefined && p(v);
      });
    }
  }
  return { test: all(conds), prefixLength };
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return v === undefined ? undefined : typeof v === 'string' ? v : v.join(',');
}

/**
 * Envoy's header matcher. `withoutHeaders` is Istio's inverted matcher: a missing header
 * counts as the empty string (treat_missing_header_as_empty), except for a presence match,
 * where missing simply means "not present".
 */
function headerCondition(name: string, hm: StringMatch | { present: true }, invert: boolean): StreamPredicate {
  if ('present' in hm) {
    return invert ? (s) => s.headers[name] === undefined : (s) => s.headers[name] !== undefined;
  }
  const p: StringPredicate = compileStringMatch(hm);
  if (invert) return (s) => !p(headerValue(s.headers, name) ?? '');
  return (s) => {
    const v = headerValue(s.headers, name);
    return v !== undefined && p(v);
  };
}

function all(conds: StreamPredicate[]): StreamPredicate {
  switch (conds.length) {
    case 0:
      return ALWAYS;
    case 1:
      return conds[0];
    case 2: {
      const [a, b] = conds;
      return (s) => a(s) && b(s);
    }
    default:
      return (s) => {
        for (let i = 0; i < conds.length; i++) if (!conds[i](s)) return false;
        return true;
      };
  }
}
