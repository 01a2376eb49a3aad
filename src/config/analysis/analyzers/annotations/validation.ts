import { isIP } from 'node:net';
import { parse } from 'yaml';
import { defaultMeshConfig } from '../../../mesh.js';

// Value checks for the injection annotations whose values the sidecar injector parses. A value
// the injector cannot parse makes injection fail (or silently fall back), so the analyzer flags
// it up front. Each check returns an error text, or undefined when the value is fine.

type Check = (value: string) => string | undefined;

const INTERCEPTION_MODES = new Set(['REDIRECT', 'TPROXY', 'NONE']);

/** Unsigned decimal that fits in `bits` bits (Go's strconv.ParseUint, base 10). */
function parseUint(value: string, bits: number): number | undefined {
  if (!/^[0-9]+$/.test(value)) return undefined;
  const n = Number(value);
  return n <= 2 ** bits - 1 ? n : undefined;
}

function uint32(value: string): string | undefined {
  return parseUint(value, 32) === undefined ? `"${value}" is not an unsigned 32-bit integer` : undefined;
}

/** Go's strconv.ParseBool spellings. */
function bool(value: string): string | undefined {
  const ok = ['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False'];
  return ok.includes(value) ? undefined : `"${value}" is not a boolean`;
}

function port(value: string): string | undefined {
  return parseUint(value.trim(), 16) === undefined ? `bad port "${value}"` : undefined;
}

/** Comma-separated ports; an empty list is allowed. */
function portList(what: string): Check {
  return (value) => {
    const trimmed = value.trim();
    if (!trimmed) return undefined;
    for (const p of trimmed.split(',')) {
      const err = port(p);
      if (err) return `${what}: ${err}`;
    }
    return undefined;
  };
}

/** A CIDR prefix as Go's netip.ParsePrefix takes it: no spaces, canonical address, bits in range. */
function cidrError(cidr: string): string | undefined {
  const slash = cidr.indexOf('/');
  if (slash < 0) return `"${cidr}" has no prefix length`;
  const addr = cidr.slice(0, slash);
  const bits = cidr.slice(slash + 1);
  const family = isIP(addr);
  if (family === 0 || addr.includes('%')) return `"${cidr}" has a bad address`;
  const max = family === 4 ? 32 : 128;
  if (!/^(0|[1-9][0-9]*)$/.test(bits) || Number(bits) > max) return `"${cidr}" has a bad prefix length`;
  return undefined;
}

function cidrList(what: string, allowStar: boolean): Check {
  return (value) => {
    if (allowStar && value === '*') return undefined;
    if (!value) return undefined;
    for (const cidr of value.split(',')) {
      const err = cidrError(cidr);
      if (err) return `${what}: ${err}`;
    }
    return undefined;
  };
}

function interceptionMode(value: string): string | undefined {
  return INTERCEPTION_MODES.has(value) ? undefined : `interception mode "${value}" is not one of REDIRECT, TPROXY, NONE`;
}

/** `host:port` with a non-empty host and a valid port (the shape of proxy addresses). */
function proxyAddressError(address: string): string | undefined {
  const colon = address.lastIndexOf(':');
  if (colon <= 0) return `address "${address}" is not host:port`;
  const p = parseUint(address.slice(colon + 1), 16);
  if (!p) return `address "${address}" has a bad port`;
  return undefined;
}

function portRangeError(what: string, value: unknown): string | undefined {
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 && n <= 65535 ? undefined : `${what} ${String(value)} is out of range`;
}

/**
 * `proxy.istio.io/config`: YAML laid over the default proxy config, then the main checks
 * istiod applies to a proxy config (required paths, addresses, ports, auth policy).
 * Unknown field names are not checked here.
 */
function proxyConfig(value: string): string | undefined {
  let overrides: unknown;
  try {
    overrides = parse(value);
  } catch (e) {
    return `cannot parse the proxy config: ${(e as Error).message.split('\n')[0]}`;
  }
  if (overrides === null || overrides === undefined) overrides = {};
  if (typeof overrides !== 'object' || Array.isArray(overrides)) return 'the proxy config is not a mapping';
  const cfg: Record<string, any> = { ...defaultMeshConfig().defaultConfig, ...(overrides as Record<string, any>) };
  if (!cfg.configPath) return 'config path must be set';
  if (!cfg.binaryPath) return 'binary path must be set';
  if ('serviceCluster' in (overrides as object) && !cfg.serviceCluster && !cfg.tracingServiceName) return 'service cluster must be set';
  if (!cfg.discoveryAddress) return 'discovery address must be set';
  const checks = [
    proxyAddressError(String(cfg.discoveryAddress)),
    cfg.statsdUdpAddress ? proxyAddressError(String(cfg.statsdUdpAddress)) : undefined,
    cfg.envoyMetricsService?.address ? proxyAddressError(String(cfg.envoyMetricsService.address)) : undefined,
    cfg.envoyAccessLogService?.address ? proxyAddressError(String(cfg.envoyAccessLogService.address)) : undefined,
    portRangeError('proxy admin port', cfg.proxyAdminPort),
    portRangeError('status port', cfg.statusPort),
    ['NONE', 'MUTUAL_TLS'].includes(cfg.controlPlaneAuthPolicy) ? undefined : `unknown control plane auth policy "${cfg.controlPlaneAuthPolicy}"`,
  ];
  return checks.find((e) => e !== undefined);
}

/** Annotations whose values Istio validates, and how. */
const VALUE_CHECKS: ReadonlyMap<string, Check> = new Map<string, Check>([
  ['sidecar.istio.io/interceptionMode', interceptionMode],
  ['status.sidecar.istio.io/port', (v) => (port(v) ? `status port: ${port(v)}` : undefined)],
  ['readiness.status.sidecar.istio.io/initialDelaySeconds', uint32],
  ['readiness.status.sidecar.istio.io/periodSeconds', uint32],
  ['readiness.status.sidecar.istio.io/failureThreshold', uint32],
  ['traffic.sidecar.istio.io/includeOutboundIPRanges', cidrList('includeOutboundIPRanges', true)],
  ['traffic.sidecar.istio.io/excludeOutboundIPRanges', cidrList('excludeOutboundIPRanges', false)],
  ['traffic.sidecar.istio.io/includeInboundPorts', (v) => (v === '*' ? undefined : portList('includeInboundPorts')(v))],
  ['traffic.sidecar.istio.io/excludeInboundPorts', portList('excludeInboundPorts')],
  ['traffic.sidecar.istio.io/excludeOutboundPorts', portList('excludeOutboundPorts')],
  ['prometheus.istio.io/merge-metrics', bool],
  ['proxy.istio.io/config', proxyConfig],
]);

/** The problem with an annotation's value, or undefined when it is fine or not checked. */
export function annotationValueError(name: string, value: unknown): string | undefined {
  const check = VALUE_CHECKS.get(name);
  return check ? check(value === null || value === undefined ? '' : String(value)) : undefined;
}
