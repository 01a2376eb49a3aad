import type { Resource } from '../../../../api/resource.js';
import { namespaceOf } from '../../../../api/resource.js';
import { checkExportTo } from './check-export-to.js';
import { checkFQDN, checkPartialWildcard, checkWildcardDomain } from './check-hosts.js';
import { checkIPSubnet, isIPAddress } from './check-ip-addresses.js';
import { checkPort, checkPortName } from './check-ports.js';
import { checkProtocol, isHTTPProtocol, isTCPProtocol, isTLSProtocol, parseProtocol } from './check-protocols.js';
import { alphaWorkloadSelectorErrors, checkLabels } from './check-selectors.js';
import type { Findings } from './findings.js';
import { checkWorkloadEntry } from './workloadentry-rules.js';
import { entries, isSet, list, num, obj, str } from './yaml-values.js';

// ServiceEntry rules (Istio's ValidateServiceEntry): hosts, addresses, unique named ports, and
// what each resolution mode needs (endpoints for STATIC, FQDN hosts for DNS without
// endpoints, ...). Plain TCP cannot tell hosts apart, so several hosts need HTTP or TLS ports.

// Istio allocates addresses for ServiceEntries without any (PILOT_ENABLE_IP_AUTOALLOCATE, on by
// default) unless the resource opts out with this label.
const AUTOALLOCATE_LABEL = 'networking.istio.io/enable-autoallocate-ip';

export function validateServiceEntry(r: Resource, f: Findings): void {
  const spec = obj(r.spec) ?? {};
  const selector = alphaWorkloadSelectorErrors(['spec', 'workloadSelector'], spec.workloadSelector);
  if (selector.errors.length) {
    // Istio reports only these when the selector is broken.
    for (const [p, text] of selector.errors) f.error(p, text);
    return;
  }
  if (selector.empty) f.warn(['spec', 'workloadSelector'], 'workloadSelector has no labels, so it applies to all workloads in the namespace');
  if (isSet(spec.workloadSelector) && list(spec.endpoints).length > 0) f.error(['spec'], 'only one of workloadSelector and endpoints may be set');

  const hosts = list(spec.hosts).map(str);
  if (hosts.length === 0) f.error(['spec'], 'a ServiceEntry needs at least one host');
  hosts.forEach((h, i) => {
    const p = ['spec', 'hosts', i];
    if (h === '*') {
      f.error(p, 'host * is not allowed');
      return;
    }
    const err = checkWildcardDomain(h);
    if (err) f.error(p, err);
    const partial = checkPartialWildcard(h);
    if (partial) f.warn(p, partial);
  });

  const addresses = list(spec.addresses).map(str);
  let cidr = false;
  addresses.forEach((a, i) => {
    cidr ||= a.includes('/');
    const err = checkIPSubnet(a);
    if (err) f.error(['spec', 'addresses', i], err);
  });
  const resolution = str(spec.resolution) || 'NONE';
  if (cidr && resolution !== 'NONE' && resolution !== 'STATIC') f.error(['spec', 'resolution'], 'CIDR addresses need resolution NONE or STATIC');

  const optedOut = (r.metadata.labels?.[AUTOALLOCATE_LABEL] ?? '').toLowerCase() === 'false';
  const autoAllocated = resolution !== 'NONE' && !optedOut && addresses.length === 0;
  const portNames = new Set<string>();
  const portNumbers = new Set<number>();
  list(spec.ports).forEach((raw, i) => {
    const p = ['spec', 'ports', i];
    const port = obj(raw);
    if (!port) {
      f.error(p, 'port must not be null');
      return;
    }
    const name = str(port.name), number = num(port.number), protocol = str(port.protocol);
    if (portNames.has(name)) f.error([...p, 'name'], `port name "${name}" is used more than once`);
    portNames.add(name);
    if (portNumbers.has(number)) f.error([...p, 'number'], `port ${number} is listed more than once`);
    portNumbers.add(number);
    if (num(port.targetPort) !== 0) {
      const err = checkPort(num(port.targetPort));
      if (err) f.error([...p, 'targetPort'], err);
    }
    if (addresses.length === 0 && !autoAllocated && (protocol === '' || protocol === 'TCP')) {
      f.warn(p, 'TCP (or unset) protocol ports need addresses when IP auto-allocation does not apply');
    }
    const nameErr = checkPortName(name);
    if (nameErr) f.error([...p, 'name'], nameErr);
    const protoErr = checkProtocol(protocol);
    if (protoErr) f.error([...p, 'protocol'], protoErr);
    const numErr = checkPort(number);
    if (numErr) f.error([...p, 'number'], numErr);
  });

  const endpoints = list(spec.endpoints);
  switch (resolution) {
    case 'NONE':
      if (endpoints.length) f.error(['spec', 'endpoints'], 'resolution NONE takes no endpoints');
      if (isSet(spec.workloadSelector)) f.warn(['spec', 'workloadSelector'], 'workloadSelector should not be set when resolution is NONE');
      break;
    case 'STATIC':
      endpoints.forEach((ep, i) => {
        const e = obj(ep);
        if (!e) f.error(['spec', 'endpoints', i], 'endpoint must not be null');
        else checkWorkloadEntry(f, ['spec', 'endpoints', i], e, portNames, false);
      });
      break;
    case 'DNS':
    case 'DNS_ROUND_ROBIN':
      checkDnsResolution(f, spec, resolution, hosts, addresses, portNames);
      break;
    default:
      f.error(['spec', 'resolution'], `unsupported resolution ${resolution}`);
  }

  // With plain TCP there is nothing (no Host header, no SNI) to tell several hosts apart.
  if (resolution !== 'NONE' && hosts.length > 1) {
    for (const [i, raw] of list(spec.ports).entries()) {
      const port = obj(raw);
      if (!port) {
        f.error(['spec', 'ports', i], 'port must not be null');
        continue;
      }
      const proto = parseProtocol(str(port.protocol));
      if (!isHTTPProtocol(proto) && !isTLSProtocol(proto)) {
        f.error(['spec', 'ports', i], 'several hosts need HTTP or TLS ports: with other protocols the hosts cannot be told apart');
        break;
      }
    }
  }
  checkExportTo(f, ['spec', 'exportTo'], namespaceOf(r), spec.exportTo, true, false);
}

function checkDnsResolution(f: Findings, spec: Record<string, any>, resolution: string, hosts: string[], addresses: string[], portNames: Set<string>): void {
  const endpoints = list(spec.endpoints);
  if (endpoints.length === 0) {
    hosts.forEach((h, i) => {
      if (checkFQDN(h)) f.error(['spec', 'hosts', i], `hosts must be fully qualified when resolution is ${resolution} and there are no endpoints`);
    });
  }
  if (resolution === 'DNS_ROUND_ROBIN' && endpoints.length > 1) f.error(['spec', 'endpoints'], 'resolution DNS_ROUND_ROBIN takes at most one endpoint');
  endpoints.forEach((ep, i) => {
    const p = ['spec', 'endpoints', i];
    const e = obj(ep);
    if (!e) {
      f.error(p, 'endpoint must not be null');
      return;
    }
    const address = str(e.address);
    if (!isIPAddress(address) && checkFQDN(address)) f.error([...p, 'address'], `endpoint address "${address}" is neither a valid host name nor an IP address`);
    checkLabels(f, [...p, 'labels'], e.labels);
    for (const [name, port] of entries(e.ports)) {
      const pp = [...p, 'ports', name];
      if (!portNames.has(name)) f.error(pp, `endpoint port ${num(port)} (${name}) is not a port of the ServiceEntry`);
      const nameErr = checkPortName(name);
      if (nameErr) f.error(pp, nameErr);
      const portErr = checkPort(num(port));
      if (portErr) f.error(pp, portErr);
    }
  });
  if (isSet(spec.workloadSelector)) f.warn(['spec', 'workloadSelector'], `workloadSelector should not be set when resolution is ${resolution}`);
  if (addresses.length > 0) {
    for (const [i, raw] of list(spec.ports).entries()) {
      const port = obj(raw);
      if (!port) {
        f.error(['spec', 'ports', i], 'port must not be null');
        continue;
      }
      if (isTCPProtocol(parseProtocol(str(port.protocol)))) {
        if (hosts.length > 1) f.warn(['spec', 'hosts'], 'a ServiceEntry with addresses and a TCP port should have only one host');
        break;
      }
    }
  }
}
