import type { FieldPath, Resource } from '../../../../api/resource.js';
import { namespaceOf } from '../../../../api/resource.js';
import {
  checkDuration, checkExportTo, durationNanos, checkFQDN, checkIPAddress, checkLabels, checkPercent, checkPort, checkWildcardDomain,
  checkWorkloadSelector, entries, isDNS1123Label, isSet, list, num, obj, str, truthy, wrapped, type Obj,
} from './checks.js';
import type { Findings } from './findings.js';

// DestinationRule rules (Istio's ValidateDestinationRule): the host, subsets (unique DNS-label
// names, valid labels) and traffic policies (connection pools, outlier detection, load
// balancing, client TLS, tunnels). Connection pool checks are shared with Sidecar.

export function validateDestinationRule(r: Resource, f: Findings): void {
  const spec = obj(r.spec) ?? {};
  const hostErr = checkWildcardDomain(str(spec.host));
  if (hostErr) f.error(['spec', 'host'], hostErr);
  const ns = namespaceOf(r);
  checkTrafficPolicy(f, ['spec', 'trafficPolicy'], spec.trafficPolicy, ns);

  const names = new Set<string>();
  list(spec.subsets).forEach((raw, i) => {
    const p = ['spec', 'subsets', i];
    const subset = obj(raw);
    if (!subset) {
      f.error(p, 'subset must not be null');
      return;
    }
    const name = str(subset.name);
    if (names.has(name)) f.error([...p, 'name'], `subset name ${name} is used more than once`);
    names.add(name);
    if (name === '') f.error([...p, 'name'], 'subset name must not be empty');
    else if (!isDNS1123Label(name)) f.error([...p, 'name'], `subset name "${name}" is not a DNS-1123 label`);
    checkLabels(f, [...p, 'labels'], subset.labels);
    checkTrafficPolicy(f, [...p, 'trafficPolicy'], subset.trafficPolicy, ns);
  });
  checkExportTo(f, ['spec', 'exportTo'], ns, spec.exportTo, false, isSet(spec.workloadSelector));
  checkWorkloadSelector(f, ['spec', 'workloadSelector'], spec.workloadSelector);
}

function checkTrafficPolicy(f: Findings, p: FieldPath, raw: unknown, namespace: string): void {
  if (!isSet(raw)) return;
  const policy = obj(raw) ?? {};
  const fields = ['outlierDetection', 'connectionPool', 'loadBalancer', 'tls', 'portLevelSettings', 'tunnel', 'proxyProtocol'];
  if (!fields.some((k) => (k === 'portLevelSettings' ? list(policy[k]).length > 0 : isSet(policy[k])))) {
    f.error(p, 'a traffic policy must set at least one field');
    return;
  }
  if (isSet(policy.tunnel) && isSet(policy.proxyProtocol)) {
    f.error(p, 'tunnel and proxyProtocol cannot be set together');
    return;
  }
  checkOutlierDetection(f, [...p, 'outlierDetection'], obj(policy.outlierDetection));
  checkConnectionPool(f, [...p, 'connectionPool'], policy.connectionPool);
  checkLoadBalancer(f, [...p, 'loadBalancer'], obj(policy.loadBalancer), isSet(policy.outlierDetection));
  checkClientTLS(f, [...p, 'tls'], obj(policy.tls), namespace);
  list(policy.portLevelSettings).forEach((pl, i) => checkPortTrafficPolicy(f, [...p, 'portLevelSettings', i], pl, namespace));
  checkTunnel(f, [...p, 'tunnel'], obj(policy.tunnel));
}

function checkPortTrafficPolicy(f: Findings, p: FieldPath, raw: unknown, namespace: string): void {
  const pl = obj(raw);
  if (!pl) {
    f.error(p, 'port traffic policy must not be null');
    return;
  }
  if (!isSet(pl.port)) f.error(p, 'a port traffic policy needs a port');
  if (!isSet(pl.outlierDetection) && !isSet(pl.connectionPool) && !isSet(pl.loadBalancer) && !isSet(pl.tls)) {
    f.error(p, 'a port traffic policy must set at least one of outlierDetection, connectionPool, loadBalancer or tls');
    return;
  }
  checkOutlierDetection(f, [...p, 'outlierDetection'], obj(pl.outlierDetection));
  checkConnectionPool(f, [...p, 'connectionPool'], pl.connectionPool);
  checkLoadBalancer(f, [...p, 'loadBalancer'], obj(pl.loadBalancer), isSet(pl.outlierDetection));
  checkClientTLS(f, [...p, 'tls'], obj(pl.tls), namespace);
}

function checkOutlierDetection(f: Findings, p: FieldPath, od: Obj | undefined): void {
  if (!od) return;
  checkDuration(f, [...p, 'baseEjectionTime'], od.baseEjectionTime);
  if (num(od.consecutiveErrors) !== 0) {
    f.warn([...p, 'consecutiveErrors'], 'consecutiveErrors is deprecated; use consecutiveGatewayErrors or consecutive5xxErrors');
  }
  if (!truthy(od.splitExternalLocalOriginErrors) && wrapped(od.consecutiveLocalOriginFailures) > 0) {
    f.error([...p, 'consecutiveLocalOriginFailures'], 'consecutiveLocalOriginFailures has no effect unless splitExternalLocalOriginErrors is true');
  }
  checkDuration(f, [...p, 'interval'], od.interval);
  checkPercent(f, [...p, 'maxEjectionPercent'], od.maxEjectionPercent);
  checkPercent(f, [...p, 'minHealthPercent'], od.minHealthPercent);
}

/** Connection pool limits: none negative, durations valid, and at least one of http/tcp. */
export function checkConnectionPool(f: Findings, p: FieldPath, raw: unknown): void {
  if (!isSet(raw)) return;
  const pool = obj(raw) ?? {};
  if (!isSet(pool.http) && !isSet(pool.tcp)) {
    f.error(p, 'a connection pool must set http or tcp settings');
    return;
  }
  const nonNegative = (o: Obj, base: FieldPath, field: string) => {
    if (num(o[field]) < 0) f.error([...base, field], `${field} must not be negative`);
  };
  const http = obj(pool.http);
  if (http) {
    const hp = [...p, 'http'];
    for (const field of ['http1MaxPendingRequests', 'http2MaxRequests', 'maxRequestsPerConnection', 'maxRetries']) nonNegative(http, hp, field);
    checkDuration(f, [...hp, 'idleTimeout'], http.idleTimeout);
    if (str(http.h2UpgradePolicy) === 'UPGRADE' && truthy(http.useClientProtocol)) {
      f.error([...hp, 'useClientProtocol'], 'useClientProtocol must not be true when h2UpgradePolicy is UPGRADE');
    }
    nonNegative(http, hp, 'maxConcurrentStreams');
  }
  const tcp = obj(pool.tcp);
  if (tcp) {
    const tp = [...p, 'tcp'];
    nonNegative(tcp, tp, 'maxConnections');
    checkDuration(f, [...tp, 'connectTimeout'], tcp.connectTimeout);
    checkDuration(f, [...tp, 'maxConnectionDuration'], tcp.maxConnectionDuration);
    // An idle timeout of 0s switches the timeout off.
    if (durationNanos(tcp.idleTimeout) !== 0n) checkDuration(f, [...tp, 'idleTimeout'], tcp.idleTimeout);
    const ka = obj(tcp.tcpKeepalive);
    if (ka) {
      checkDuration(f, [...tp, 'tcpKeepalive', 'time'], ka.time);
      checkDuration(f, [...tp, 'tcpKeepalive', 'interval'], ka.interval);
    }
  }
}

/** Envoy's own primality test for the Maglev table size. */
function isPrime(x: number): boolean {
  if (x !== 0 && x < 4) return true;
  if (x % 2 === 0) return false;
  const limit = Math.floor(Math.sqrt(x));
  for (let d = 3; d <= limit; d += 2) if (x % d === 0) return false;
  return true;
}

function checkLoadBalancer(f: Findings, p: FieldPath, lb: Obj | undefined, hasOutlierDetection: boolean): void {
  if (!lb) return;
  const hash = obj(lb.consistentHash);
  if (hash) {
    const hp = [...p, 'consistentHash'];
    const cookie = obj(hash.httpCookie);
    if (cookie && str(cookie.name) === '') f.error([...hp, 'httpCookie'], 'httpCookie needs a name');
    const minRing = num(hash.minimumRingSize);
    if (minRing !== 0) f.warn([...hp, 'minimumRingSize'], 'minimumRingSize is deprecated; use ringHash.minimumRingSize');
    if (minRing !== 0 && (isSet(hash.ringHash) || isSet(hash.maglev))) f.error(hp, 'set only one of minimumRingSize and maglev/ringHash');
    const maglev = obj(hash.maglev);
    if (maglev) {
      const size = num(maglev.tableSize);
      const sp = [...hp, 'maglev', 'tableSize'];
      if (size === 0) f.error(sp, 'maglev needs a tableSize');
      if (size >= 5000011) f.error(sp, 'maglev tableSize must be less than 5000011');
      if (!isPrime(size)) f.error(sp, `maglev tableSize ${size} must be a prime number`);
    }
  }
  checkLocalityLbSetting(f, [...p, 'localityLbSetting'], obj(lb.localityLbSetting), hasOutlierDetection);
  checkDuration(f, [...p, 'warmupDurationSecs'], lb.warmupDurationSecs);
  const warmup = obj(lb.warmup);
  if (warmup) {
    const wp = [...p, 'warmup'];
    if (!isSet(warmup.duration)) f.error(wp, 'warmup needs a duration');
    else checkDuration(f, [...wp, 'duration'], warmup.duration);
    if (wrapped(warmup.minimumPercent) > 100) f.error([...wp, 'minimumPercent'], 'minimumPercent must be at most 100');
    if (isSet(warmup.aggression) && wrapped(warmup.aggression) < 1) f.error([...wp, 'aggression'], 'aggression must be at least 1');
  }
}

const TOPOLOGY_LABELS = new Set(['topology.kubernetes.io/region', 'topology.kubernetes.io/zone', 'topology.istio.io/subzone']);

function checkLocalityLbSetting(f: Findings, p: FieldPath, lb: Obj | undefined, hasOutlierDetection: boolean): void {
  if (!lb) return;
  const distribute = list(lb.distribute), failover = list(lb.failover), priority = list(lb.failoverPriority).map(str);
  if (distribute.length && failover.length) {
    f.error(p, 'distribute and failover cannot be set together');
    return;
  }
  if (failover.length && priority.length) {
    const topo = priority.find((l) => TOPOLOGY_LABELS.has(l));
    if (topo) {
      f.error([...p, 'failoverPriority'], `failover cannot be combined with the topology label ${topo} in failoverPriority`);
      return;
    }
  }
  const sources: string[] = [];
  for (let i = 0; i < distribute.length; i++) {
    const d = obj(distribute[i]) ?? {};
    const dp = [...p, 'distribute', i];
    sources.push(str(d.from));
    let total = 0;
    const dests: string[] = [];
    for (const [loc, w] of entries(d.to)) {
      dests.push(loc);
      const weight = num(w);
      if (weight <= 0 || weight > 100) {
        f.error([...dp, 'to', loc], 'locality weights must be in the range 1..100');
        return;
      }
      total += weight;
    }
    if (total !== 100) {
      f.error([...dp, 'to'], `locality weights add up to ${total}, not 100`);
      return;
    }
    const err = localitiesError(dests);
    if (err) f.error([...dp, 'to'], err);
  }
  const srcErr = localitiesError(sources);
  if (srcErr) f.error([...p, 'distribute'], srcErr);
  if ((failover.length || priority.length) && !hasOutlierDetection) {
    f.warn(p, 'failover needs an outlier detection policy to take effect');
  }
  failover.forEach((raw, i) => {
    const fo = obj(raw) ?? {};
    const from = str(fo.from), to = str(fo.to);
    const fp = [...p, 'failover', i];
    if (from === to) f.error(fp, 'failover from and to must be different regions');
    if (from.includes('/') || to.includes('/')) f.error(fp, 'failover takes regions only (no zone or subzone)');
    if (from.includes('*') || to.includes('*')) f.error(fp, "failover regions must not contain the '*' wildcard");
  });
}

/** Localities `region[/zone[/subzone]]`, at most one trailing `*`, none overlapping another. */
function localitiesError(localities: string[]): string | undefined {
  const tree = new Map<string, Map<string, Set<string>>>();
  for (const locality of localities) {
    const stars = (locality.match(/\*/g) ?? []).length;
    if (stars > 1 || (stars === 1 && !locality.endsWith('*'))) return `locality ${locality} may contain only one '*' wildcard, at the end`;
    if (tree.has('*')) return `locality ${locality} overlaps an earlier one`;
    const items = locality.split('/');
    const parts = items.length > 3 ? [items[0], items[1], items.slice(2).join('/')] : items;
    if (parts.some((x) => x === '')) return `locality ${locality} must not have an empty region, zone or subzone`;
    const [region, zone, subzone] = parts;
    const zones = tree.get(region);
    if (parts.length === 1) {
      if (zones) return `locality ${locality} overlaps an earlier one`;
      tree.set(region, new Map([['*', new Set(['*'])]]));
    } else if (parts.length === 2) {
      if (zones) {
        if (zones.has('*') || zones.has(zone)) return `locality ${locality} overlaps an earlier one`;
        zones.set(zone, new Set(['*']));
      } else tree.set(region, new Map([[zone, new Set(['*'])]]));
    } else if (zones) {
      if (zones.has('*')) return `locality ${locality} overlaps an earlier one`;
      const subs = zones.get(zone);
      if (subs) {
        if (subs.has('*') || subs.has(subzone)) return `locality ${locality} overlaps an earlier one`;
        subs.add(subzone);
      } else zones.set(zone, new Set([subzone]));
    } else tree.set(region, new Map([[zone, new Set([subzone])]]));
  }
  return undefined;
}

/** Client TLS (DestinationRule `tls`): certificates from files or a credentialName, not both. */
export function checkClientTLS(f: Findings, p: FieldPath, tls: Obj | undefined, namespace: string): void {
  if (!tls) return;
  const mode = str(tls.mode);
  const has = (k: string) => str(tls[k]) !== '';
  const configMapErr = configMapCredentialError(str(tls.credentialName), namespace);
  if (configMapErr) f.error([...p, 'credentialName'], configMapErr);
  if (truthy(obj(tls.insecureSkipVerify)?.value ?? tls.insecureSkipVerify)) {
    if (mode === 'SIMPLE' && (has('caCertificates') || has('credentialName') || isSet(tls.subjectAltNames))) {
      f.error(p, 'caCertificates, credentialName and subjectAltNames cannot be set when insecureSkipVerify is true');
    }
    if (mode === 'MUTUAL' && (has('caCertificates') || isSet(tls.subjectAltNames))) {
      f.error(p, 'caCertificates and subjectAltNames cannot be set when insecureSkipVerify is true');
    }
  }
  if ((mode === 'SIMPLE' || mode === 'MUTUAL') && has('credentialName')) {
    // The certificates come from the named secret.
    if (has('clientCertificate') || has('caCertificates') || has('privateKey') || has('caCrl')) {
      f.error(p, 'client certificate, private key, CA certificates and CA CRL cannot be set together with credentialName');
    }
    return;
  }
  if (mode === 'MUTUAL') {
    if (!has('clientCertificate')) f.error(p, 'MUTUAL TLS needs a clientCertificate (or a credentialName)');
    if (!has('privateKey')) f.error(p, 'MUTUAL TLS needs a privateKey (or a credentialName)');
  }
}

const CONFIGMAP_PREFIX = 'configmap://';

/** A `configmap://[namespace/]name` credential must live in the resource's own namespace. */
function configMapCredentialError(credentialName: string, namespace: string): string | undefined {
  if (!credentialName.startsWith(CONFIGMAP_PREFIX)) return undefined;
  const parts = credentialName.slice(CONFIGMAP_PREFIX.length).split('/');
  if (parts.length > 2 || parts.some((x) => x === '')) return `invalid configmap:// credentialName "${credentialName}"`;
  const ns = parts.length === 2 ? parts[0] : namespace;
  if (ns !== namespace || namespace === '') return `a configmap:// credentialName must be in the resource's own namespace "${namespace}"`;
  return undefined;
}

function checkTunnel(f: Findings, p: FieldPath, tunnel: Obj | undefined): void {
  if (!tunnel) return;
  const protocol = str(tunnel.protocol);
  if (protocol !== '' && protocol !== 'CONNECT' && protocol !== 'POST') f.error([...p, 'protocol'], 'tunnel protocol must be "CONNECT" or "POST"');
  const host = str(tunnel.targetHost);
  const fqdnErr = checkFQDN(host), ipErr = checkIPAddress(host);
  if (fqdnErr && ipErr) f.error([...p, 'targetHost'], `tunnel targetHost must be a domain name or an IP address: ${fqdnErr}; ${ipErr}`);
  const portErr = checkPort(num(tunnel.targetPort));
  if (portErr) f.error([...p, 'targetPort'], `tunnel targetPort is invalid: ${portErr}`);
}
