import type { FieldPath, Resource } from '../../../../api/resource.js';
import { namespaceOf } from '../../../../api/resource.js';
import { checkDuration, durationNanos } from './check-durations.js';
import { checkExportTo } from './check-export-to.js';
import { checkFQDN, checkWildcardDomain, isDNS1123Label } from './check-hosts.js';
import { checkIPAddress } from './check-ip-addresses.js';
import { checkPercent } from './check-percentages.js';
import { checkPort } from './check-ports.js';
import { checkLabels, checkWorkloadSelector } from './check-selectors.js';
import { checkLoadBalancer } from './destinationrule-load-balancer.js';
import type { Findings } from './findings.js';
import { isSet, list, num, obj, str, truthy, wrapped, type Obj } from './yaml-values.js';

// DestinationRule rules (Istio's ValidateDestinationRule): the host, subsets (unique DNS-label
// names, valid labels) and traffic policies (connection pools, outlier detection, load
// balancing, client TLS, tunnels). Connection pool checks are shared with Sidecar; load
// balancing lives in destinationrule-load-balancer.ts.

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
