import { isIP } from 'node:net';
import type { FieldPath } from '../../../../api/resource.js';
import type { Findings } from './findings.js';

// Building blocks shared by the per-kind validation rules: host names, ports, durations,
// labels, selectors, regexes and the other small formats Istio checks in every API. Each check
// reads the YAML value defensively: a field of the wrong type is the structural check's
// business (src/config/schema.ts), so here it is simply treated as unset.

export type Obj = Record<string, any>;

/** An object value, or undefined for anything else (null, arrays, scalars). */
export function obj(v: unknown): Obj | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
}

/** A list value; anything else is an empty list, as protobuf sees an unset repeated field. */
export function list(v: unknown): any[] {
  return Array.isArray(v) ? v : [];
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** A number as protobuf JSON reads it (numbers, or numeric strings); unset is 0. */
export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return 0;
}

/** True when a message field is present (protobuf's non-nil pointer). */
export function isSet(v: unknown): boolean {
  return v !== undefined && v !== null;
}

/** The entries of a map field, in the order written. */
export function entries(v: unknown): Array<[string, any]> {
  return Object.entries(obj(v) ?? {});
}

/** A wrapper value (`google.protobuf.*Value`) written as a bare scalar in YAML. */
export function wrapped(v: unknown): number {
  const o = obj(v);
  return o ? num(o.value) : num(v);
}

export function truthy(v: unknown): boolean {
  return v === true || v === 'true';
}

// ---------------------------------------------------------------------------------- DNS names

const DNS1123_LABEL = '[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?';
const dns1123LabelRe = new RegExp(`^${DNS1123_LABEL}$`);
const wildcardLabelRe = new RegExp(`^(?:\\*|(?:\\*|\\*-)?${DNS1123_LABEL})$`);

export function isDNS1123Label(v: string): boolean {
  return v.length <= 63 && dns1123LabelRe.test(v);
}

/** A DNS label that may also be `*` or start with `*` / `*-` (`*foo`, `*-foo`). */
export function isWildcardDNS1123Label(v: string): boolean {
  return v.length <= 63 && wildcardLabelRe.test(v);
}

function dnsPreconditions(name: string): string | undefined {
  if (name.length > 255) return `domain name "${name}" is too long (at most 255 characters)`;
  if (name.length === 0) return 'domain name must not be empty';
  return undefined;
}

function dnsLabels(domain: string): string | undefined {
  const parts = domain.split('.');
  const top = parts[parts.length - 1];
  if (/^[-+]?\d+$/.test(top)) return `domain name "${domain}" is invalid: its top-level domain "${top}" is all digits`;
  for (let i = 0; i < parts.length; i++) {
    // A trailing dot (`istio.io.`) is allowed.
    if (i === parts.length - 1 && parts[i] === '') return undefined;
    if (!isDNS1123Label(parts[i])) return `domain name "${domain}" is invalid: label "${parts[i]}" is not a DNS-1123 label`;
  }
  return undefined;
}

/** A fully qualified domain name, no wildcards. */
export function checkFQDN(fqdn: string): string | undefined {
  return dnsPreconditions(fqdn) ?? dnsLabels(fqdn);
}

/** A domain name whose first label may be a wildcard (`*.example.com`, `*`). */
export function checkWildcardDomain(domain: string): string | undefined {
  const pre = dnsPreconditions(domain);
  if (pre) return pre;
  const dot = domain.indexOf('.');
  const first = dot < 0 ? domain : domain.slice(0, dot);
  if (!isWildcardDNS1123Label(first)) return `domain name "${domain}" is invalid: label "${first}" is not a DNS-1123 label or wildcard`;
  return dot < 0 ? undefined : dnsLabels(domain.slice(dot + 1));
}

/**
 * Like checkWildcardDomain, for VirtualServices bound to gateways: an SNI host may be one of
 * Istio's generated `outbound_.<port>_...` names.
 */
export function checkWildcardDomainForGatewayRoute(sni: boolean, domain: string): string | undefined {
  const pre = dnsPreconditions(domain);
  if (pre) return pre;
  const dot = domain.indexOf('.');
  const first = dot < 0 ? domain : domain.slice(0, dot);
  if (sni && first === 'outbound_') {
    return /outbound_.([0-8].*).*/.test(domain) ? undefined : `domain name "${domain}" is invalid: label "${first}" is not valid here`;
  }
  if (!isWildcardDNS1123Label(first)) return `domain name "${domain}" is invalid: label "${first}" is not a DNS-1123 label or wildcard`;
  return dot < 0 ? undefined : dnsLabels(domain.slice(dot + 1));
}

/** Only whole leading labels may be wildcards: `*.foo.com` or `*`, never `foo*.com`. */
export function checkPartialWildcard(host: string): string | undefined {
  if (host.includes('*') && host.length !== 1 && !host.startsWith('*.')) return `partial wildcard "${host}" is not allowed`;
  return undefined;
}

/** Istio's host.Name.Matches: the two (possibly wildcarded) names overlap. */
export function hostNamesOverlap(a: string, b: string): boolean {
  const aw = a.startsWith('*'), bw = b.startsWith('*');
  if (aw && bw) return a.length < b.length ? b.slice(1).endsWith(a.slice(1)) : a.slice(1).endsWith(b.slice(1));
  if (aw) return b.endsWith(a.slice(1));
  if (bw) return a.endsWith(b.slice(1));
  return a === b;
}

/** Istio's host.Name.SubsetOf: every name `a` covers is also covered by `b`. */
export function hostNameSubsetOf(a: string, b: string): boolean {
  const aw = a.startsWith('*'), bw = b.startsWith('*');
  if (aw && bw) return a.length >= b.length && a.slice(1).endsWith(b.slice(1));
  if (aw) return false;
  if (bw) return a.endsWith(b.slice(1));
  return a === b;
}

/** Host part of a Sidecar egress host or Gateway server host (`ns/` prefix removed). */
function checkScopedHostnamePart(hostname: string, isGateway: boolean): string[] {
  const errs: string[] = [];
  if (hostname !== '*' && !hostname.includes('.')) errs.push('short names (not fully qualified) are not allowed');
  const err = checkWildcardDomain(hostname);
  if (err) {
    // Gateways also accept an IP address as the host.
    if (!isGateway) errs.push(err);
    if (!isIPAddress(hostname)) errs.push(err);
  }
  const partial = checkPartialWildcard(hostname);
  if (partial) errs.push(partial);
  return errs;
}

/** `namespace/dnsName` hosts of Sidecar egress listeners and Gateway servers (gateways also allow plain names). */
export function checkNamespaceSlashHost(hostname: string, isGateway: boolean, gatewaySemantics = false): string[] {
  const slash = hostname.indexOf('/');
  if (slash < 0) {
    if (isGateway) return checkScopedHostnamePart(hostname, true);
    return ['host must have the form namespace/dnsName'];
  }
  const ns = hostname.slice(0, slash), name = hostname.slice(slash + 1);
  const errs: string[] = [];
  if (!ns || !name) errs.push('namespace and dnsName of a host must not be empty');
  const special = ns === '*' || ns === '.' || (ns === '~' && (!isGateway || gatewaySemantics));
  if (!special && !isDNS1123Label(ns)) errs.push(`invalid namespace "${ns}" in ${isGateway ? 'gateway' : 'sidecar'} host`);
  errs.push(...checkScopedHostnamePart(name, isGateway));
  return errs;
}

// ------------------------------------------------------------------------------ IPs and ports

export function isIPAddress(v: string): boolean {
  return isIP(v) !== 0;
}

export function checkIPAddress(v: string): string | undefined {
  return isIPAddress(v) ? undefined : `${v} is not a valid IP address`;
}

/** An IP prefix `a.b.c.d/n` or `x::y/n` (host bits may be set, as Go's netip.ParsePrefix allows). */
export function isCIDR(v: string): boolean {
  const slash = v.indexOf('/');
  if (slash < 0) return false;
  const ip = v.slice(0, slash), bits = v.slice(slash + 1);
  const family = isIP(ip);
  if (family === 0 || !/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/** An IP address or a CIDR block. */
export function checkIPSubnet(v: string): string | undefined {
  if ((v.match(/\//g) ?? []).length === 1) return isCIDR(v) ? undefined : `${v} is not a valid CIDR block`;
  return checkIPAddress(v);
}

export function checkPort(port: number): string | undefined {
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? undefined : `port number ${port} is not in the range 1..65535`;
}

/** Port names are DNS-1123 labels. */
export function checkPortName(name: string): string | undefined {
  return isDNS1123Label(name) ? undefined : `invalid port name "${name}" (must be a DNS-1123 label)`;
}

// ---------------------------------------------------------------------------------- protocols

export type Protocol = 'GRPC' | 'GRPC-Web' | 'HTTP' | 'HTTP_PROXY' | 'HTTP2' | 'HTTPS' | 'TCP' | 'TLS' | 'UDP' | 'Mongo' | 'Redis' | 'MySQL' | 'Unsupported';

const PROTOCOLS: Record<string, Protocol> = {
  tcp: 'TCP', udp: 'UDP', grpc: 'GRPC', 'grpc-web': 'GRPC-Web', http: 'HTTP', http_proxy: 'HTTP_PROXY',
  http2: 'HTTP2', https: 'HTTPS', tls: 'TLS', mongo: 'Mongo', redis: 'Redis', mysql: 'MySQL',
};

/** Istio's protocol.Parse: case-insensitive, anything else is unsupported. */
export function parseProtocol(s: string): Protocol {
  return PROTOCOLS[s.toLowerCase()] ?? 'Unsupported';
}

export const isHTTPProtocol = (p: Protocol) => p === 'HTTP' || p === 'HTTP2' || p === 'HTTP_PROXY' || p === 'GRPC' || p === 'GRPC-Web';
export const isTLSProtocol = (p: Protocol) => p === 'HTTPS' || p === 'TLS';
export const isTCPProtocol = (p: Protocol) => p === 'TCP' || p === 'HTTPS' || p === 'TLS' || p === 'Mongo' || p === 'Redis' || p === 'MySQL';

/** An empty protocol is allowed (protocol sniffing); an unknown one is not. */
export function checkProtocol(s: string): string | undefined {
  return s !== '' && parseProtocol(s) === 'Unsupported' ? `unsupported protocol "${s}"` : undefined;
}

// ---------------------------------------------------------------------------------- durations

const UNIT_NANOS: Record<string, bigint> = {
  ns: 1n, us: 1000n, 'µs': 1000n, 'μs': 1000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n,
};
const DURATION_RE = /^[-+]?(?:0|(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/;
const SEGMENT_RE = /(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/g;

/**
 * A duration as Istio's YAML accepts it (Go syntax: `10s`, `1.5s`, `100ms`, `1h30m`; protobuf's
 * `1.000s` is a special case), in nanoseconds; undefined when it does not parse.
 */
export function parseDuration(s: string): bigint | undefined {
  if (!DURATION_RE.test(s)) return undefined;
  const negative = s.startsWith('-');
  let total = 0n;
  for (const m of s.matchAll(SEGMENT_RE)) {
    const unit = UNIT_NANOS[m[3]];
    const whole = BigInt(m[1] || '0');
    const frac = m[2] ?? '';
    // Fractions are exact to the nanosecond: scale the digits to the unit, dropping what is finer.
    const fracNanos = frac ? (BigInt(frac) * unit) / 10n ** BigInt(frac.length) : 0n;
    total += whole * unit + fracNanos;
  }
  return negative ? -total : total;
}

const MS = 1_000_000n;

/** Istio's ValidateDuration: at least 1ms and a whole number of milliseconds. */
export function checkDuration(f: Findings, path: FieldPath, v: unknown): void {
  if (!isSet(v) || typeof v !== 'string') return;
  const ns = parseDuration(v);
  if (ns === undefined) f.error(path, `"${v}" is not a valid duration (write e.g. 10s, 500ms or 1m30s)`);
  else if (ns < MS) f.error(path, `duration ${v} must be at least 1ms`);
  else if (ns % MS !== 0n) f.error(path, `duration ${v} is finer than milliseconds, which is not supported`);
}

/** Duration in nanoseconds, or undefined when unset or not parseable. */
export function durationNanos(v: unknown): bigint | undefined {
  return typeof v === 'string' ? parseDuration(v) : undefined;
}

// ----------------------------------------------------------------------------- labels, selectors

const DNS_PREFIX = `${DNS1123_LABEL}(?:\\.${DNS1123_LABEL})*/`;
const QUALIFIED_NAME = '(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const labelKeyRe = new RegExp(`^(${DNS_PREFIX})?(${QUALIFIED_NAME})$`);
const labelValueRe = new RegExp(`^(?:${QUALIFIED_NAME})?$`);

function checkLabelKey(k: string): string | undefined {
  const m = labelKeyRe.exec(k);
  if (!m) return `invalid label key "${k}"`;
  if (m[1] && m[1].length - 1 > 253) return `invalid label key "${k}": its DNS prefix is longer than 253 characters`;
  if (m[2].length > 63) return `invalid label key "${k}": its name is longer than 63 characters`;
  return undefined;
}

/** Kubernetes label syntax for every key and value of a label map. */
export function checkLabels(f: Findings, path: FieldPath, labels: unknown): void {
  for (const [k, v] of entries(labels)) {
    const keyErr = checkLabelKey(k);
    if (keyErr) f.error([...path, k], keyErr);
    if (!labelValueRe.test(String(v ?? ''))) f.error([...path, k], `invalid label value "${String(v)}"`);
  }
}

/**
 * A `selector: {matchLabels}` (istio.type.v1beta1.WorkloadSelector): no empty keys, no
 * wildcards; an empty selector selects everything, which is most likely a mistake.
 */
export function checkWorkloadSelector(f: Findings, path: FieldPath, selector: unknown): void {
  if (!isSet(selector)) return;
  const labels = entries(obj(selector)?.matchLabels);
  for (const [k, v] of labels) {
    const lp = [...path, 'matchLabels', k];
    if (k === '') f.error(lp, `empty label key is not supported in a selector: "${k}=${v}"`);
    if (k.includes('*') || String(v).includes('*')) f.error(lp, `wildcards are not supported in a selector: "${k}=${v}"`);
  }
  if (labels.length === 0) f.warn(path, 'workload selector has no labels');
}

/**
 * The older `workloadSelector: {labels}` of Sidecar, ServiceEntry and EnvoyFilter. Returns the
 * errors (Istio stops validating the resource when there are any) and whether it is empty.
 */
export function alphaWorkloadSelectorErrors(path: FieldPath, selector: unknown): { errors: Array<[FieldPath, string]>; empty: boolean } {
  const errors: Array<[FieldPath, string]> = [];
  if (!isSet(selector)) return { errors, empty: false };
  const labels = entries(obj(selector)?.labels);
  for (const [k, v] of labels) {
    const lp = [...path, 'labels', k];
    if (k === '') errors.push([lp, `empty label key is not supported in a selector: "${k}=${v}"`]);
    if (k.includes('*') || String(v).includes('*')) errors.push([lp, `wildcards are not supported in a selector: "${k}=${v}"`]);
  }
  return { errors, empty: labels.length === 0 };
}

// Policy attachment (targetRef / targetRefs) is allowed to these kinds only (group, kind).
const TARGET_REF_KINDS: ReadonlyArray<[string, string]> = [
  ['core', 'Service'],
  ['networking.istio.io', 'ServiceEntry'],
  ['gateway.networking.k8s.io', 'Gateway'],
  ['gateway.networking.k8s.io', 'GatewayClass'],
];

export function checkPolicyTargetRef(f: Findings, path: FieldPath, ref: unknown): void {
  const r = obj(ref);
  if (!r) return;
  if (str(r.name) === '') f.error(path, 'targetRef name must be set');
  if (str(r.namespace) !== '') f.error([...path, 'namespace'], 'targetRef namespace must not be set: references across namespaces are not supported');
  const group = str(r.group) || 'core';
  if (!TARGET_REF_KINDS.some(([g, k]) => g === group && k === str(r.kind))) {
    const allowed = TARGET_REF_KINDS.map(([g, k]) => `${g === 'core' ? '' : g + '/'}${k}`).join(', ');
    f.error(path, `targetRef must point to one of ${allowed}, not ${str(r.group)}/${str(r.kind)}`);
  }
}

/** selector, targetRef and targetRefs are alternatives, and each targetRef must be allowed. */
export function checkPolicySelection(f: Findings, spec: Obj): void {
  const set = [isSet(spec.selector), isSet(spec.targetRef), list(spec.targetRefs).length > 0].filter(Boolean).length;
  if (set > 1) f.error(['spec'], 'only one of selector, targetRef or targetRefs may be set');
  checkWorkloadSelector(f, ['spec', 'selector'], spec.selector);
  checkPolicyTargetRef(f, ['spec', 'targetRef'], spec.targetRef);
  list(spec.targetRefs).forEach((ref, i) => checkPolicyTargetRef(f, ['spec', 'targetRefs', i], ref));
}

/**
 * exportTo lists `.` (this namespace), `*` (everyone), namespace names, and for ServiceEntries
 * `~` (no one). Duplicates and contradictory mixes are errors.
 */
export function checkExportTo(f: Findings, path: FieldPath, namespace: string, exportTo: unknown, isServiceEntry: boolean, drWithSelector: boolean): void {
  const values = list(exportTo).map(str);
  if (values.length === 0) return;
  const seen = new Set<string>();
  values.forEach((e, i) => {
    const key = e === '.' ? namespace : e;
    if (seen.has(key)) {
      f.error([...path, i], key !== e ? `exportTo lists both "." and the current namespace ${namespace}` : `exportTo lists ${e} more than once`);
    } else if (isServiceEntry && e === '~') {
      seen.add(key);
    } else if (key === '.' || key === '*' || isDNS1123Label(key)) {
      seen.add(key);
    } else {
      f.error([...path, i], `exportTo value "${e}" is not ".", "*" or a namespace name`);
    }
  });
  if (drWithSelector && seen.size > 0) {
    if (!seen.has(namespace)) f.error(path, 'a DestinationRule with a workloadSelector cannot be exported beyond its own namespace');
    else if (seen.size > 1) f.error(path, 'a DestinationRule with a workloadSelector can have only one exportTo entry');
  }
  if (seen.has('*') && values.length > 1) f.error(path, 'exportTo cannot mix "*" (public) with other values');
  if (seen.has('~') && values.length > 1) f.error(path, 'exportTo cannot mix "~" (no one) with other values');
}

// ------------------------------------------------------------------------------------ HTTP

// Header names: any HTTP token character (RFC 7230) where Envoy matches or sets them; only
// letters, digits and '-' where they become Envoy config keys (claim outputs, probe headers).
const tokenHeaderNameRe = /^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$/;
const strictHeaderNameRe = /^[-A-Za-z0-9]+$/;
const PSEUDO_HEADERS = new Set([':method', ':scheme', ':authority', ':path', ':status']);

export function checkHeaderName(name: string): string | undefined {
  if (name === '') return 'header name must not be empty';
  return tokenHeaderNameRe.test(name) ? undefined : `"${name}" is not a valid header name`;
}

/** Header names that must be plain letters, digits and dashes. */
export function checkStrictHeaderName(name: string): string | undefined {
  if (name === '') return 'header name must not be empty';
  return strictHeaderNameRe.test(name) ? undefined : `"${name}" is not a valid header name (letters, digits and '-' only)`;
}

/** Header names used for routing may also be JWT claims: `@request.auth.claims.sub`, `@request.auth.claims[sub]`. */
export function isJwtClaimRoute(name: string): boolean {
  const prefix = '@request.auth.claims';
  if (!name.toLowerCase().startsWith(prefix)) return false;
  const rest = name.slice(prefix.length);
  return (rest.startsWith('.') && rest.length > 1) || (rest.startsWith('[') && rest.endsWith(']') && rest.length > 2);
}

/** Match headers: a JWT claim, an HTTP/2 pseudo-header, or a token. */
export function checkHeaderNameOrJwtClaim(name: string): string | undefined {
  if (name === '') return 'header name must not be empty';
  if (isJwtClaimRoute(name) || PSEUDO_HEADERS.has(name)) return undefined;
  return checkHeaderName(name);
}

const isInternalHeader = (k: string) => k.startsWith(':') || k.toLowerCase() === 'host';
export const isAuthorityHeader = (k: string) => k.toLowerCase() === ':authority' || k.toLowerCase() === 'host';

/** Request headers that are added or set may rewrite the authority, but no other pseudo-header. */
export function checkRequestHeaderToSet(name: string): string | undefined {
  if (name === '') return 'header name must not be empty';
  if (isInternalHeader(name) && !isAuthorityHeader(name)) return `header "${name}" cannot be changed: it is a pseudo-header`;
  return undefined;
}

/** Headers that are removed, and response headers, may not be pseudo-headers or Host. */
export function checkHeaderToChange(name: string): string | undefined {
  if (name === '') return 'header name must not be empty';
  if (name.toLowerCase() === 'host') return `header "${name}" cannot be changed: Host cannot be set this way`;
  if (isInternalHeader(name)) return `header "${name}" cannot be changed: it is a pseudo-header`;
  return undefined;
}

// eslint-disable-next-line no-control-regex
const headerValueRe = /^[^\u0000-\u0008\u000A-\u001F\u007F]*$/;

/** Envoy header values: no control characters, and `%` starts a `%VARIABLE%` (`%%` is a literal %). */
export function checkHeaderValue(value: string): string | undefined {
  if (!headerValueRe.test(value)) return `header value "${value}" contains control characters`;
  const err = envoyHeaderFormatError(value);
  return err ? `header value "${value}" is invalid: ${err}` : undefined;
}

/** A small state machine over Envoy's `%VAR%` / `%VAR(args)%` syntax, as Envoy's header parser reads it. */
function envoyHeaderFormatError(v: string): string | undefined {
  type State = 'literal' | 'name' | 'array' | 'string' | 'inString' | 'delim' | 'argsEnd' | 'varEnd';
  let state: State = 'literal';
  for (let i = 0; i < v.length; i++) {
    const ch = v[i];
    switch (state) {
      case 'literal':
        if (ch !== '%') break;
        if (i + 1 >= v.length) return 'unescaped % at the end (write %% for a literal %)';
        if (v[i + 1] === '%') i++;
        else state = 'name';
        break;
      case 'name':
        if (ch === '%') state = 'literal';
        else if (ch === '(') state = 'array';
        break;
      case 'array':
        if (ch === '[') state = 'string';
        else if (ch !== ' ') state = 'inString';
        break;
      case 'delim':
        if (ch === ',') state = 'string';
        else if (ch === ']') state = 'argsEnd';
        else if (ch !== ' ') return "expected ',', ']' or a space";
        break;
      case 'string':
        if (ch === '"') state = 'inString';
        else if (ch !== ' ') return 'expected \'"\'';
        break;
      case 'inString':
        if (ch === '\\') {
          if (i + 1 >= v.length) return 'unterminated backslash in an argument string';
          i++;
        } else if (ch === ')') state = 'varEnd';
        else if (ch === '"') state = 'delim';
        break;
      case 'argsEnd':
        if (ch === ')') state = 'varEnd';
        else if (ch !== ' ') return "expected ')' or a space";
        break;
      case 'varEnd':
        if (ch === '%') state = 'literal';
        else if (ch !== ' ') return "expected '%' or a space";
        break;
    }
  }
  return state === 'literal' ? undefined : 'unterminated %VARIABLE% expression';
}

/** Header manipulation blocks (`headers.request`/`headers.response` with set, add, remove). */
export function checkHeaderOperations(f: Findings, path: FieldPath, headers: unknown): void {
  const h = obj(headers);
  if (!h) return;
  for (const dir of ['request', 'response'] as const) {
    const ops = obj(h[dir]);
    if (!ops) continue;
    for (const op of ['add', 'set'] as const) {
      for (const [name, val] of entries(ops[op])) {
        const p = [...path, dir, op, name];
        const nameErr = dir === 'request' ? checkRequestHeaderToSet(name) : checkHeaderToChange(name);
        if (nameErr) f.error(p, nameErr);
        const valErr = checkHeaderValue(String(val ?? ''));
        if (valErr) f.error(p, valErr);
      }
    }
    list(ops.remove).forEach((name, i) => {
      const err = checkHeaderToChange(str(name));
      if (err) f.error([...path, dir, 'remove', i], err);
    });
  }
}

// ---------------------------------------------------------------------------------- regexes

/**
 * Istio matches with RE2. JavaScript's engine is close enough to catch syntax errors once
 * RE2-only syntax is translated; constructs RE2 lacks (lookaround, backreferences) are errors.
 */
export function checkRegex(re: string): string | undefined {
  if (re.length > 1024) return 'regex is too long (at most 1024 characters)';
  if (/\(\?<?[=!]/.test(re)) return `regex "${re}" uses lookaround, which RE2 does not support`;
  if (/\\[1-9]|\\k</.test(re)) return `regex "${re}" uses a backreference, which RE2 does not support`;
  const translated = re
    .replace(/\(\?P</g, '(?<') // named groups
    .replace(/\(\?[imsU]+\)/g, '') // leading flag groups
    .replace(/\(\?[imsU]*-?[imsU]*:/g, '(?:') // flag-scoped groups
    .replace(/\\z/g, '$')
    .replace(/\\A/g, '^')
    .replace(/\[\[:\^?[a-z]+:\]\]/g, '[a]')
    .replace(/\\[pP]\{?[A-Za-z]+\}?/g, 'a');
  try {
    new RegExp(translated);
    return undefined;
  } catch (e) {
    const detail = (e as Error).message.replace(/^Invalid regular expression: /, '');
    return `invalid regex "${re}": ${detail} (Istio uses RE2 syntax)`;
  }
}

/** A StringMatch (`exact` / `prefix` / `regex`); `uri` may have an empty prefix, other matches may not. */
export function checkStringMatch(f: Findings, path: FieldPath, sm: unknown, allowEmptyPrefix = false): void {
  const m = obj(sm);
  if (!m) return;
  if ('prefix' in m && !allowEmptyPrefix && str(m.prefix) === '') f.error([...path, 'prefix'], 'prefix match must not be empty');
  if ('regex' in m) {
    const re = str(m.regex);
    if (re === '') f.error([...path, 'regex'], 'regex match must not be empty');
    else {
      const err = checkRegex(re);
      if (err) f.error([...path, 'regex'], err);
    }
  }
}

// ---------------------------------------------------------------------------------- gateways

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

/** Percent values that are whole numbers (0..100). */
export function checkPercent(f: Findings, path: FieldPath, v: unknown): void {
  if (!isSet(v)) return;
  const n = num(v);
  if (n < 0 || n > 100) f.error(path, `percentage ${n} is not in the range 0..100`);
}

/** A fractional `{value: N}` percentage: 0, or 0.0001..100. */
export function checkFractionalPercent(f: Findings, path: FieldPath, v: unknown): void {
  const p = obj(v);
  if (!p) return;
  const n = num(p.value);
  if (n < 0 || n > 100 || (n > 0 && n < 0.0001)) f.error(path, `percentage ${n} must be 0 or between 0.0001 and 100`);
}

/** The HTTP methods Go knows, which CORS and other method lists may use. */
export const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE']);
