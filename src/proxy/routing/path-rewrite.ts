import type { HttpStream } from '../http-stream.js';
import { splitAuthority } from '../http-stream.js';
import type { CompiledRoute } from './route-table.js';

// Envoy's path rewrites and redirect URLs, on the route the stream matched.

/**
 * The path to send upstream. `uriRegexRewrite` replaces every match in the path (query kept);
 * `rewrite.uri` replaces the matched prefix, or the whole path for exact and regex matches.
 */
export function rewrittenPath(s: HttpStream, r: CompiledRoute): string {
  if (r.regexRewrite) {
    const path = s.path.slice(0, s.pathLength);
    r.regexRewrite.re.lastIndex = 0;
    return path.replace(r.regexRewrite.re, r.regexRewrite.substitution) + s.path.slice(s.pathLength);
  }
  if (r.prefixRewrite === undefined) return s.path;
  const prefixLength = s.matchIndex < 0 ? 1 : r.matches[s.matchIndex].prefixLength;
  if (prefixLength < 0) return r.prefixRewrite + s.path.slice(s.pathLength);
  return r.prefixRewrite + s.path.slice(prefixLength);
}

/**
 * The `location` of a redirect: scheme, host and port as Envoy's RedirectAction builds them.
 * A new port (or a scheme change away from the default port) drops the request's port; a
 * new `uri` replaces the path and keeps the query unless it carries its own.
 */
export function redirectLocation(s: HttpStream, r: CompiledRoute): string {
  const rd = r.redirect!;
  const scheme = rd.scheme || s.scheme;
  const portPart = rd.port !== undefined && !(rd.port === 80 && scheme === 'http') && !(rd.port === 443 && scheme === 'https') ? `:${rd.port}` : '';
  let host: string;
  if (rd.authority) host = rd.authority;
  else {
    const { host: h, port } = splitAuthority(s.authority);
    let removePort = rd.port !== undefined;
    if (scheme !== s.scheme) removePort ||= (s.scheme === 'http' && port === ':80') || (s.scheme === 'https' && port === ':443');
    host = removePort ? h : s.authority;
  }
  let path: string;
  if (rd.uri) path = rd.uri.includes('?') ? rd.uri : rd.uri + s.path.slice(s.pathLength);
  else path = s.path;
  return `${scheme}://${host}${portPart}${path}`;
}
