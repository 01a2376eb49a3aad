import type { FieldPath, Resource } from '../../../../api/resource.js';
import { namespaceOf } from '../../../../api/resource.js';
import {
  HTTP_METHODS, checkDuration, checkExportTo, checkFractionalPercent, checkGatewayNames, checkHeaderName, checkHeaderNameOrJwtClaim,
  checkHeaderOperations, checkIPSubnet, checkLabels, checkPort, checkRegex, checkStringMatch, checkWildcardDomain,
  checkWildcardDomainForGatewayRoute, durationNanos, entries, hostNameSubsetOf, hostNamesOverlap, isAuthorityHeader, isDNS1123Label,
  isIPAddress, isJwtClaimRoute, isSet, list, num, obj, str, wrapped, type Obj,
} from './checks.js';
import type { Findings } from './findings.js';

// VirtualService rules (Istio's ValidateVirtualService): hosts, gateway references, every HTTP,
// TLS and TCP route, and the rule-order analysis that finds routes no request can reach
// (IST0130) and matches that an earlier match already takes (IST0131). Bad routing config is
// rejected by istiod's webhook, so catching it before `kubectl apply` saves a round trip.

const MESH_GATEWAY = 'mesh';
const ROUTE_SEMANTICS_ANNOTATION = 'internal.istio.io/route-semantics';

export function validateVirtualService(r: Resource, f: Findings): void {
  const spec = obj(r.spec) ?? {};
  const hosts = list(spec.hosts).map(str);
  const gateways = list(spec.gateways).map(str);
  // Routes generated from the Gateway API carry looser naming rules.
  const gatewaySemantics = r.metadata.annotations?.[ROUTE_SEMANTICS_ANNOTATION] === 'gateway';

  // A VirtualService without hosts is a delegate: only HTTP routes, attached by a parent.
  if (hosts.length === 0) {
    if (gateways.length) f.error(['spec', 'gateways'], 'a delegate VirtualService (one without hosts) must not list gateways');
    if (list(spec.tls).length) f.error(['spec', 'tls'], 'a delegate VirtualService (one without hosts) must not have TLS routes');
    if (list(spec.tcp).length) f.error(['spec', 'tcp'], 'a delegate VirtualService (one without hosts) must not have TCP routes');
  }

  const appliesToGateway = gateways.length > 0 && !gateways.includes(MESH_GATEWAY);
  if (gateways.length) checkGatewayNames(f, ['spec', 'gateways'], spec.gateways, gatewaySemantics);
  if (!appliesToGateway) checkJwtClaimRoutes(f, spec);
  checkHosts(f, spec, hosts, appliesToGateway);

  if (!list(spec.http).length && !list(spec.tcp).length && !list(spec.tls).length) {
    f.error(['spec'], 'a VirtualService needs http, tcp or tls routes');
  }
  list(spec.http).forEach((route, i) => {
    const p = ['spec', 'http', i];
    if (!isSet(route)) f.error(p, 'HTTP route must not be null');
    else checkHTTPRoute(f, p, obj(route) ?? {}, hosts.length === 0, gatewaySemantics);
  });
  list(spec.tls).forEach((route, i) => checkTLSRoute(f, ['spec', 'tls', i], obj(route), spec, gateways, gatewaySemantics));
  list(spec.tcp).forEach((route, i) => checkTCPRoute(f, ['spec', 'tcp', i], obj(route), gatewaySemantics));
  checkExportTo(f, ['spec', 'exportTo'], namespaceOf(r), spec.exportTo, false, false);

  findUnreachableRules(f, list(spec.http), true);
  findUnreachableRules(f, list(spec.tcp), false);
  findUnreachableRules(f, list(spec.tls), false);
}

/** JWT claim routing (`@request.auth.claims.*` headers) works only on gateways. */
function checkJwtClaimRoutes(f: Findings, spec: Obj): void {
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

function checkHosts(f: Findings, spec: Obj, hosts: string[], appliesToGateway: boolean): void {
  const sni = list(spec.tls).some((t) => list(obj(t)?.match).some((m) => list(obj(m)?.sniHosts).length > 0));
  let allValid = true;
  hosts.forEach((host, i) => {
    const err = appliesToGateway ? checkWildcardDomainForGatewayRoute(sni, host) : checkWildcardDomain(host);
    if (err) {
      if (!isIPAddress(host)) {
        f.error(['spec', 'hosts', i], err);
        allValid = false;
      }
    } else if (!appliesToGateway && host === '*') {
      f.error(['spec', 'hosts', i], 'the wildcard host * is not allowed for VirtualServices that apply to the mesh');
      allValid = false;
    }
  });
  if (!allValid) return;
  // `*.foo.com` and `bar.foo.com` in one VirtualService overlap just like exact duplicates.
  for (let i = 0; i < hosts.length; i++) {
    for (let j = i + 1; j < hosts.length; j++) {
      if (hostNamesOverlap(hosts[i], hosts[j])) f.error(['spec', 'hosts', j], `hosts ${hosts[i]} and ${hosts[j]} overlap`);
    }
  }
}

// -------------------------------------------------------------------------------- HTTP routes

function checkHTTPRoute(f: Findings, p: FieldPath, http: Obj, isDelegate: boolean, gatewaySemantics: boolean): void {
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
  checkHTTPRouteDestinations(f, [...p, 'route'], http.route, gatewaySemantics);
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

function checkMatchRequests(f: Findings, p: FieldPath, http: Obj): void {
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

function checkCorsPolicy(f: Findings, p: FieldPath, cors: Obj | undefined): void {
  if (!cors) return;
  list(cors.allowOrigins).forEach((origin, i) => {
    const o = obj(origin) ?? {};
    const value = str(o.exact) || str(o.prefix) || str(o.regex);
    if (value === '') f.error([...p, 'allowOrigins', i], 'an allowOrigins entry needs a non-empty exact, prefix or regex');
    else checkStringMatch(f, [...p, 'allowOrigins', i], o);
  });
  list(cors.allowMethods).forEach((m, i) => {
    if (!HTTP_METHODS.has(str(m)) && str(m) !== '*') f.error([...p, 'allowMethods', i], `"${str(m)}" is not a supported HTTP method`);
  });
  for (const field of ['allowHeaders', 'exposeHeaders']) {
    list(cors[field]).forEach((h, i) => {
      const name = str(h);
      if (name === '*') return;
      const err = checkHeaderName(name);
      if (err) f.error([...p, field, i], err);
    });
  }
  if (isSet(cors.maxAge)) {
    checkDuration(f, [...p, 'maxAge'], cors.maxAge);
    const ns = durationNanos(cors.maxAge);
    if (ns !== undefined && ns % 1_000_000_000n !== 0n) f.error([...p, 'maxAge'], 'maxAge is honoured only to the second; use whole seconds');
  }
}

/** gRPC status names Envoy can inject (https://github.com/grpc/grpc/blob/master/doc/statuscodes.md). */
const GRPC_STATUSES = new Set([
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE',
  'DATA_LOSS', 'UNAUTHENTICATED',
]);

function checkHTTPStatus(f: Findings, path: FieldPath, status: number): void {
  if (status < 200 || status > 600) f.error(path, `HTTP status ${status} is not in the range 200..599`);
}

function checkFault(f: Findings, p: FieldPath, fault: Obj | undefined): void {
  if (!fault) return;
  if (!isSet(fault.abort) && !isSet(fault.delay)) f.error(p, 'fault injection needs an abort, a delay, or both');
  const abort = obj(fault.abort);
  if (abort) {
    const ap = [...p, 'abort'];
    checkFractionalPercent(f, [...ap, 'percentage'], abort.percentage);
    if ('grpcStatus' in abort) {
      if (!GRPC_STATUSES.has(str(abort.grpcStatus))) f.error([...ap, 'grpcStatus'], `gRPC status "${str(abort.grpcStatus)}" is not a known status name (e.g. NOT_FOUND)`);
    } else if ('http2Error' in abort) {
      f.error([...ap, 'http2Error'], 'HTTP/2 abort fault injection is not supported');
    } else if ('httpStatus' in abort) {
      checkHTTPStatus(f, [...ap, 'httpStatus'], num(abort.httpStatus));
    } else {
      f.warn(ap, 'abort is configured without an error type (httpStatus or grpcStatus)');
    }
  }
  const delay = obj(fault.delay);
  if (delay) {
    const dp = [...p, 'delay'];
    checkFractionalPercent(f, [...dp, 'percentage'], delay.percentage);
    if ('fixedDelay' in delay) checkDuration(f, [...dp, 'fixedDelay'], delay.fixedDelay);
    else if ('exponentialDelay' in delay) {
      checkDuration(f, [...dp, 'exponentialDelay'], delay.exponentialDelay);
      f.error([...dp, 'exponentialDelay'], 'exponentialDelay is not supported');
    }
  }
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

/** Retry conditions Envoy understands (x-envoy-retry-on and x-envoy-retry-grpc-on). */
const RETRY_ON = new Set([
  '5xx', 'gateway-error', 'reset', 'reset-before-request', 'connect-failure', 'retriable-4xx', 'refused-stream',
  'retriable-status-codes', 'retriable-headers', 'envoy-ratelimited', 'http3-post-connect-failure',
  'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
]);

/** Status codes Go's net/http has a name for; a numeric retryOn entry must be one of these. */
const KNOWN_HTTP_STATUS = new Set([
  100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308,
  400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421, 422, 423, 424,
  425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
]);

function checkRetries(f: Findings, p: FieldPath, retries: Obj | undefined): void {
  if (!retries) return;
  const attempts = num(retries.attempts);
  if (attempts < 0) f.error([...p, 'attempts'], 'attempts must not be negative');
  if (attempts === 0 && (isSet(retries.perTryTimeout) || str(retries.retryOn) !== '' || isSet(retries.retryRemoteLocalities))) {
    f.error(p, 'retry settings have no effect when attempts is 0 (retries disabled)');
  }
  checkDuration(f, [...p, 'perTryTimeout'], retries.perTryTimeout);
  checkDuration(f, [...p, 'backoff'], retries.backoff);
  const retryOn = str(retries.retryOn);
  if (retryOn !== '') {
    for (const policy of retryOn.split(',')) {
      const code = /^[-+]?\d+$/.test(policy) ? Number(policy) : 0;
      if (!KNOWN_HTTP_STATUS.has(code) && !RETRY_ON.has(policy)) f.error([...p, 'retryOn'], `"${policy}" is not a valid retryOn condition`);
    }
  }
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

function checkHTTPRouteDestinations(f: Findings, p: FieldPath, route: unknown, gatewaySemantics: boolean): void {
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
    checkHeaderOperations(f, [...dp, 'headers'], d.headers);
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

// ------------------------------------------------------------------------------- TLS and TCP

function checkTLSRoute(f: Findings, p: FieldPath, tls: Obj | undefined, spec: Obj, gateways: string[], gatewaySemantics: boolean): void {
  if (!tls) return;
  if (list(tls.match).length === 0) f.error(p, 'a TLS route needs at least one match');
  list(tls.match).forEach((m, i) => checkTLSMatch(f, [...p, 'match', i], m, spec, gateways));
  if (list(tls.route).length === 0) f.error(p, 'a TLS route needs route destinations');
  checkL4RouteDestinations(f, [...p, 'route'], tls.route, gatewaySemantics);
}

function checkTLSMatch(f: Findings, p: FieldPath, raw: unknown, spec: Obj, gateways: string[]): void {
  const match = obj(raw);
  if (!match) {
    f.error(p, 'TLS match must not be null');
    return;
  }
  const sniHosts = list(match.sniHosts).map(str);
  if (sniHosts.length === 0) f.error(p, 'a TLS match needs at least one sniHost');
  sniHosts.forEach((sni, i) => checkSniHost(f, [...p, 'sniHosts', i], sni, spec, gateways));
  checkL4MatchCommon(f, p, match);
}

function checkSniHost(f: Findings, p: FieldPath, sni: string, spec: Obj, gateways: string[]): void {
  // Istio treats a VirtualService without gateways like a gateway one here (its isGateway helper).
  const onGateway = !gateways.includes(MESH_GATEWAY);
  const err = onGateway ? checkWildcardDomainForGatewayRoute(true, sni) : checkWildcardDomain(sni);
  if (err) {
    if (isIPAddress(sni)) f.warn(p, `SNI host "${sni}" is an IP address, which the SNI standard forbids and most clients do not send`);
    else f.error(p, err);
    return;
  }
  const hosts = list(spec.hosts).map(str);
  if (!hosts.some((h) => hostNameSubsetOf(sni, h))) {
    f.error(p, `SNI host "${sni}" is not covered by any host of the VirtualService: [${hosts.join(', ')}]`);
  }
}

function checkTCPRoute(f: Findings, p: FieldPath, tcp: Obj | undefined, gatewaySemantics: boolean): void {
  if (!tcp) return;
  list(tcp.match).forEach((raw, i) => {
    const match = obj(raw);
    if (!match) f.error([...p, 'match', i], 'TCP match must not be null');
    else checkL4MatchCommon(f, [...p, 'match', i], match);
  });
  if (list(tcp.route).length === 0) f.error(p, 'a TCP route needs route destinations');
  checkL4RouteDestinations(f, [...p, 'route'], tcp.route, gatewaySemantics);
}

function checkL4MatchCommon(f: Findings, p: FieldPath, match: Obj): void {
  list(match.destinationSubnets).forEach((s, i) => {
    const err = checkIPSubnet(str(s));
    if (err) f.error([...p, 'destinationSubnets', i], err);
  });
  if (num(match.port) !== 0) {
    const err = checkPort(num(match.port));
    if (err) f.error([...p, 'port'], err);
  }
  checkLabels(f, [...p, 'sourceLabels'], match.sourceLabels);
  checkGatewayNames(f, [...p, 'gateways'], match.gateways);
}

function checkL4RouteDestinations(f: Findings, p: FieldPath, route: unknown, gatewaySemantics: boolean): void {
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
    if (!gatewaySemantics) checkDestination(f, [...dp, 'destination'], d.destination);
    total += checkWeight(f, [...dp, 'weight'], d.weight);
  });
  if (dests.length > 1 && total === 0) f.error(p, 'the total weight of the route destinations is 0');
}

// ------------------------------------------------------------------- unreachable rules (IST0130/1)

/** Istio names an HTTP rule by its `name` (quoted) or its index; TCP/TLS rules by index. */
function ruleName(route: unknown, i: number, named: boolean): string {
  const name = named ? str(obj(route)?.name) : '';
  return name ? JSON.stringify(name) : `#${i}`;
}

const matchName = ruleName;

// Map-valued match fields: an empty map is the same as none (Go's JSON omits both).
const MAP_FIELDS = new Set(['headers', 'queryParams', 'withoutHeaders', 'sourceLabels']);

/**
 * A canonical text of a match for equality: keys sorted, the match's own `name` left out, and
 * zero values dropped the way Go's JSON encoding of the proto drops them.
 */
function matchKey(match: unknown, dropName: boolean): string {
  const canon = (v: unknown, key?: string): unknown => {
    if (Array.isArray(v)) return v.length ? v.map((x) => canon(x)) : undefined;
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) {
        const c = canon((v as Obj)[k], k);
        if (c !== undefined) out[k] = c;
      }
      return key && MAP_FIELDS.has(key) && Object.keys(out).length === 0 ? undefined : out;
    }
    if (v === null || v === false || v === 0 || v === '' || v === undefined) return undefined;
    return v;
  };
  const m = obj(match);
  if (m && dropName) {
    const { name: _name, ...rest } = m;
    return JSON.stringify(canon(rest) ?? null);
  }
  return JSON.stringify(canon(match) ?? null);
}

/** A URI-prefix match, reduced to what decides whether an earlier one covers it. */
interface PrefixMatch {
  rule: string;
  match: string;
  prefix: string;
  port: number;
  method: string;
  authority: string;
  headers: Map<string, string>;
  queryParams: Map<string, string>;
  withoutHeaders: Map<string, string>;
}

/** `exact:v` / `prefix:v` / '' for a StringMatch (regexes are not compared). */
function exactOrPrefix(sm: unknown): string {
  const m = obj(sm);
  if (str(m?.exact) !== '') return `exact:${str(m?.exact)}`;
  if (str(m?.prefix) !== '') return `prefix:${str(m?.prefix)}`;
  return '';
}

function toPrefixMatch(route: unknown, routeIndex: number, match: Obj, matchIndex: number): PrefixMatch | undefined {
  const prefix = str(obj(match.uri)?.prefix);
  if (prefix === '') return undefined;
  const stringMatches = (v: unknown) => new Map(entries(v).map(([k, sm]) => [k, exactOrPrefix(sm)]));
  return {
    rule: ruleName(route, routeIndex, true),
    match: matchName(match, matchIndex, true),
    prefix,
    port: num(match.port),
    // A match without a method is compared as a GET.
    method: exactOrPrefix(match.method) || 'exact:GET',
    authority: exactOrPrefix(match.authority),
    headers: stringMatches(match.headers),
    queryParams: stringMatches(match.queryParams),
    withoutHeaders: stringMatches(match.withoutHeaders),
  };
}

/** Whether `earlier` takes every request `later` would (Istio's coveredValidation, same direction of the prefix tests). */
function covers(earlier: PrefixMatch, later: PrefixMatch): boolean {
  if (!later.prefix.startsWith(earlier.prefix)) return false;
  if (later.port !== earlier.port) return false;
  if (earlier.method !== later.method && !earlier.method.startsWith(later.method)) return false;
  if (earlier.authority !== later.authority && !earlier.authority.startsWith(later.authority)) return false;
  const mapCovers = (a: Map<string, string>, b: Map<string, string>) => {
    if (a.size !== b.size) return false;
    for (const [k, v] of a) {
      const w = b.get(k);
      if (w === undefined) return false;
      if (v !== w && !v.startsWith(w)) return false;
    }
    return true;
  };
  return mapCovers(earlier.headers, later.headers) && mapCovers(earlier.queryParams, later.queryParams) && mapCovers(earlier.withoutHeaders, later.withoutHeaders);
}

/**
 * Rules that can never be used: a rule after a catch-all, a rule whose every match an earlier
 * rule already has. HTTP rules also check URI prefixes that an earlier, shorter prefix covers;
 * TCP and TLS rules only exact duplicates.
 */
function findUnreachableRules(f: Findings, routes: unknown[], http: boolean): void {
  const seen = new Map<string, number>();
  let catchAllSeen = false;
  const prefixMatches: PrefixMatch[] = [];
  routes.forEach((route, i) => {
    const r = obj(route);
    if (!r) return;
    const matches = list(r.match);
    if (matches.length === 0) {
      // A rule without matches takes everything: rules after it are never used.
      if (catchAllSeen) f.unreachableRule(ruleName(r, i, http), 'only the last rule can have no matches');
      catchAllSeen = true;
      return;
    }
    let duplicates = 0;
    matches.forEach((match, j) => {
      if (catchAllSeen) {
        // An earlier rule without matches already takes every request.
        f.unreachableRule(ruleName(r, i, http), 'an earlier rule has no matches');
        return;
      }
      const key = matchKey(match, http);
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        f.ineffectiveMatch(ruleName(r, i, http), matchName(match, j, http), ruleName(routes[earlier], earlier, http));
        duplicates++;
        return;
      }
      seen.set(key, i);
      const m = http ? obj(match) : undefined;
      const pm = m && toPrefixMatch(r, i, m, j);
      if (pm) prefixMatches.push(pm);
    });
    if (duplicates === matches.length) f.unreachableRule(ruleName(r, i, http), 'all its matches are used by earlier rules');
  });

  // A shorter URI prefix earlier in the list also takes the longer prefixes after it.
  for (let a = 0; a < prefixMatches.length; a++) {
    for (let b = a + 1; b < prefixMatches.length; b++) {
      const earlier = prefixMatches[a], later = prefixMatches[b];
      if (later.prefix === earlier.prefix) continue; // exact duplicates were reported above
      if (covers(earlier, later)) {
        f.ineffectiveMatch(later.rule, `${later.match} of prefix ${later.prefix}`, `${earlier.match} of prefix ${earlier.prefix} on ${earlier.rule}`);
      }
    }
  }
}
