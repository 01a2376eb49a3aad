import type { FieldPath } from '../../../../api/resource.js';
import { checkDuration } from './check-durations.js';
import { checkHeaderOperations, isAuthorityHeader } from './check-headers.js';
import { checkPort } from './check-ports.js';
import { checkRegex } from './check-regex.js';
import type { Findings } from './findings.js';
import { checkDestination, checkRouteDestinations } from './virtualservice-destinations.js';
import { checkMatchRequests } from './virtualservice-http-matches.js';
import { checkCorsPolicy, checkFault, checkHTTPStatus, checkRetries } from './virtualservice-http-policies.js';
import { entries, isSet, list, num, obj, str, wrapped, type Obj } from './yaml-values.js';

// One VirtualService HTTP route: what it does (forward, redirect, respond, delegate), and the
// mirror, redirect, direct response and rewrite settings that shape it.

export function checkHTTPRoute(f: Findings, p: FieldPath, http: Obj, isDelegate: boolean, gatewaySemantics: boolean): void {
  checkRouteConflicts(f, p, http, isDelegate);
  checkMatchRequests(f, p, http);
  checkHeaderOperations(f, [...p, 'headers'], http.headers);
  checkCorsPolicy(f, [...p, 'corsPolicy'], obj(http.corsPolicy));
  checkFault(f, [...p, 'fault'], obj(http.fault));

  if (isSet(http.mirrorPercent)) {
    const v = wrapped(http.mirrorPercent);
    if (v > 100) f.error([...p, 'mirrorPercent'], `mirrorPercent must be at most 100 (it is ${v})`);
    f.warn([...p, 'mirrorPercent'], 'mirrorPercent is deprecated; use mirrorPercentage');
  }
  checkMirrorPercentage(f, [...p, 'mirrorPercentage'], http.mirrorPercentage);
  checkDestination(f, [...p, 'mirror'], http.mirror);
  list(http.mirrors).forEach((m, i) => checkMirror(f, [...p, 'mirrors', i], m));
  checkRedirect(f, [...p, 'redirect'], obj(http.redirect));
  checkDirectResponse(f, [...p, 'directResponse'], obj(http.directResponse));
  checkRetries(f, [...p, 'retries'], obj(http.retries));
  checkRewrite(f, [...p, 'rewrite'], obj(http.rewrite));
  checkAuthorityRewrite(f, p, http);
  checkRouteDestinations(f, [...p, 'route'], http.route, gatewaySemantics, true);
  checkDuration(f, [...p, 'timeout'], http.timeout);
}

/** What a route does: forward (route), redirect or respond directly; only one, and root routes only delegate. */
function checkRouteConflicts(f: Findings, p: FieldPath, http: Obj, isDelegate: boolean): void {
  const hasRoute = list(http.route).length > 0;
  if (!isDelegate && isSet(http.delegate)) {
    // A root route hands the request to the delegate VirtualService and does nothing itself.
    if (isSet(http.redirect)) f.error([...p, 'redirect'], 'a route that delegates must not also redirect');
    if (isSet(http.route)) f.error([...p, 'route'], 'a route that delegates must not also list route destinations');
    return;
  }
  if (isDelegate && isSet(http.delegate)) f.error([...p, 'delegate'], 'a delegate VirtualService cannot delegate again');

  if (isSet(http.redirect)) {
    if (hasRoute) f.error(p, 'a route cannot have both route destinations and a redirect');
    if (isSet(http.fault)) f.error(p, 'a route cannot have both fault injection and a redirect');
    if (isSet(http.rewrite)) f.error(p, 'a route cannot have both a rewrite and a redirect');
    if (isSet(http.directResponse)) f.error(p, 'a route cannot have both a directResponse and a redirect');
  } else if (isSet(http.directResponse)) {
    if (hasRoute) f.error(p, 'a route cannot have both route destinations and a directResponse');
    if (isSet(http.fault)) f.error(p, 'a route cannot have both fault injection and a directResponse');
    if (isSet(http.rewrite)) f.error(p, 'a route cannot have both a rewrite and a directResponse');
  } else if (!hasRoute) {
    f.error(p, 'a route needs route destinations, a redirect or a directResponse');
  }
  if (isSet(http.mirror) && list(http.mirrors).length > 0) f.error(p, 'a route cannot have both mirror and mirrors');
}

function checkMirrorPercentage(f: Findings, path: FieldPath, v: unknown): void {
  const p = obj(v);
  if (!p) return;
  const value = num(p.value);
  if (value > 100) f.error(path, `mirror percentage must be at most 100 (it is ${value})`);
  if (value < 0) f.error(path, `mirror percentage must not be negative (it is ${value})`);
}

function checkMirror(f: Findings, p: FieldPath, raw: unknown): void {
  const mirror = obj(raw);
  if (!mirror) {
    f.error(p, 'mirror must not be null');
    return;
  }
  if (!isSet(mirror.destination)) {
    f.error(p, 'a mirror needs a destination');
    return;
  }
  checkDestination(f, [...p, 'destination'], mirror.destination);
  checkMirrorPercentage(f, [...p, 'percentage'], mirror.percentage);
}

/** Istio reports only the first problem of a redirect. */
function checkRedirect(f: Findings, p: FieldPath, redirect: Obj | undefined): void {
  if (!redirect) return;
  const hasPort = isSet(redirect.port) || isSet(redirect.derivePort);
  if (str(redirect.uri) === '' && str(redirect.authority) === '' && !hasPort && str(redirect.scheme) === '') {
    f.error(p, 'a redirect must set uri, authority, scheme or port');
    return;
  }
  const code = num(redirect.redirectCode);
  if (code !== 0 && (code < 300 || code > 399)) {
    f.error([...p, 'redirectCode'], `${code} is not a redirect code (3xx)`);
    return;
  }
  const scheme = str(redirect.scheme);
  if (scheme !== '' && scheme !== 'http' && scheme !== 'https') {
    f.error([...p, 'scheme'], 'redirect scheme must be "http" or "https"');
    return;
  }
  if (num(redirect.port) > 0) {
    const err = checkPort(num(redirect.port));
    if (err) f.error([...p, 'port'], err);
  }
}

const KB = 1024;
const MB = 1024 * KB;

function checkDirectResponse(f: Findings, p: FieldPath, dr: Obj | undefined): void {
  if (!dr) return;
  const body = obj(dr.body);
  if (body) {
    // `bytes` is base64 in YAML; its decoded size is about three quarters of the text.
    const size = 'string' in body ? Buffer.byteLength(str(body.string)) : Math.floor((str(body.bytes).length * 3) / 4);
    if (size > MB) f.error([...p, 'body'], 'a directResponse body must be smaller than 1MB (large bodies slow down the control plane)');
    else if (size > 100 * KB) f.warn([...p, 'body'], 'a large directResponse body may slow down the control plane');
  }
  checkHTTPStatus(f, [...p, 'status'], num(dr.status));
}

function checkRewrite(f: Findings, p: FieldPath, rewrite: Obj | undefined): void {
  if (!rewrite) return;
  const uri = str(rewrite.uri);
  const regexRewrite = obj(rewrite.uriRegexRewrite);
  if (uri !== '' && isSet(rewrite.uriRegexRewrite)) {
    f.error(p, 'a rewrite may set only one of uri and uriRegexRewrite');
    return;
  }
  if (uri === '' && !isSet(rewrite.uriRegexRewrite) && str(rewrite.authority) === '') {
    f.error(p, 'a rewrite must set uri, uriRegexRewrite or authority');
    return;
  }
  if (regexRewrite) {
    const rp = [...p, 'uriRegexRewrite'];
    if (str(regexRewrite.match) === '' || str(regexRewrite.rewrite) === '') f.error(rp, 'uriRegexRewrite needs both match and rewrite');
    else {
      const err = checkRegex(str(regexRewrite.match));
      if (err) f.error([...rp, 'match'], err);
    }
  }
}

/** The authority may be rewritten in one place only: rewrite.authority or a request header. */
function checkAuthorityRewrite(f: Findings, p: FieldPath, http: Obj): void {
  let current = str(obj(http.rewrite)?.authority);
  const request = obj(obj(http.headers)?.request);
  for (const op of ['set', 'add'] as const) {
    for (const [k, v] of entries(request?.[op])) {
      if (!isAuthorityHeader(k)) continue;
      if (current !== '') {
        f.error([...p, 'headers', 'request', op, k], `the authority is rewritten more than once: "${current}" and "${String(v)}"`);
        return;
      }
      current = String(v ?? '');
    }
  }
}
