import type { FieldPath, Resource } from '../../../../api/resource.js';
import { namespaceOf } from '../../../../api/resource.js';
import { checkFQDN, checkNamespaceSlashHost } from './check-hosts.js';
import { checkIPAddress } from './check-ip-addresses.js';
import { checkPort, checkPortName } from './check-ports.js';
import { checkProtocol, isHTTPProtocol, isTLSProtocol, parseProtocol } from './check-protocols.js';
import { alphaWorkloadSelectorErrors } from './check-selectors.js';
import { checkConnectionPool } from './destinationrule-rules.js';
import type { Findings } from './findings.js';
import { checkServerTLS, checkUnixAddress } from './gateway-rules.js';
import { checkDestination } from './virtualservice-destinations.js';
import { isSet, list, num, obj, str, truthy, type Obj } from './yaml-values.js';

// Sidecar rules (Istio's ValidateSidecar): ingress listeners with unique ports and a local
// default endpoint, egress listeners with `namespace/host` hosts and at most one catch-all
// (last), and an egress proxy only with ALLOW_ANY. A bad Sidecar changes what every selected
// proxy can reach, so istiod rejects it.

const UNIX_PREFIX = 'unix://';

export function validateSidecar(r: Resource, f: Findings): void {
  const spec = obj(r.spec) ?? {};
  const selector = alphaWorkloadSelectorErrors(['spec', 'workloadSelector'], spec.workloadSelector);
  if (selector.errors.length) {
    for (const [p, text] of selector.errors) f.error(p, text);
    return;
  }
  const ingress = list(spec.ingress), egress = list(spec.egress);
  if (!ingress.length && !egress.length && !isSet(spec.outboundTrafficPolicy) && !isSet(spec.inboundConnectionPool)) {
    // Istio reports only this when there is nothing to validate.
    f.error(['spec'], 'the Sidecar is empty: it sets no ingress, egress, outboundTrafficPolicy or inboundConnectionPool');
    return;
  }
  if (selector.empty) f.warn(['spec', 'workloadSelector'], 'workloadSelector has no labels, so the Sidecar applies to all workloads in the namespace');

  const ingressPorts = new Set<number>();
  ingress.forEach((raw, i) => checkIngress(f, ['spec', 'ingress', i], raw, ingressPorts));
  checkConnectionPool(f, ['spec', 'inboundConnectionPool'], spec.inboundConnectionPool);

  const egressPorts = new Set<number>();
  const sockets = new Set<string>();
  let catchAllFound = false;
  egress.forEach((raw, i) => {
    const p = ['spec', 'egress', i];
    const listener = obj(raw);
    if (!listener) {
      f.error(p, 'egress listener must not be null');
      return;
    }
    const port = obj(listener.port);
    if (!port) {
      // A listener without a port catches all remaining egress traffic: there can be one, last.
      if (catchAllFound) {
        f.error(p, 'egress can have only one listener without a port');
        return;
      }
      if (i === egress.length - 1) catchAllFound = true;
      else f.error(p, 'the egress listener without a port must be the last one');
    } else {
      if (num(port.targetPort) > 0) f.error([...p, 'port', 'targetPort'], 'targetPort has no effect on Sidecars');
      const bind = str(listener.bind);
      checkEgressPort(f, p, port, bind, str(listener.captureMode) || 'DEFAULT');
      if (num(port.number) === 0) {
        if (sockets.has(bind)) f.error([...p, 'bind'], 'unix domain socket binds of listeners must be unique');
        sockets.add(bind);
      } else {
        if (egressPorts.has(num(port.number))) f.error([...p, 'port', 'number'], 'ports of IP-bound listeners must be unique');
        egressPorts.add(num(port.number));
      }
    }
    checkEgressHosts(f, p, listener, namespaceOf(r));
  });
  checkOutboundTrafficPolicy(f, ['spec', 'outboundTrafficPolicy'], obj(spec.outboundTrafficPolicy));
}

function checkIngress(f: Findings, p: FieldPath, raw: unknown, ports: Set<number>): void {
  const ing = obj(raw);
  if (!ing) {
    f.error(p, 'ingress listener must not be null');
    return;
  }
  const port = obj(ing.port);
  if (!port) {
    f.error(p, 'an ingress listener needs a port');
    return;
  }
  if (num(port.targetPort) > 0) f.error([...p, 'port', 'targetPort'], 'targetPort has no effect on Sidecars');
  checkListenerPort(f, [...p, 'port'], port);
  const bind = str(ing.bind);
  if (bind !== '') {
    const err = checkIPAddress(bind);
    if (err) f.error([...p, 'bind'], err);
  }
  if (ports.has(num(port.number))) f.error([...p, 'port', 'number'], 'ports of IP-bound listeners must be unique');
  ports.add(num(port.number));
  checkDefaultEndpoint(f, [...p, 'defaultEndpoint'], str(ing.defaultEndpoint));

  const tls = obj(ing.tls);
  if (tls) {
    const tp = [...p, 'tls'];
    if (list(tls.subjectAltNames).length) f.error([...tp, 'subjectAltNames'], 'subjectAltNames is not supported in Sidecar ingress TLS');
    if (truthy(tls.httpsRedirect)) f.error([...tp, 'httpsRedirect'], 'httpsRedirect is not supported in Sidecar ingress TLS');
    if (str(tls.credentialName)) f.error([...tp, 'credentialName'], 'credentialName is not supported in Sidecar ingress TLS');
    if (list(tls.credentialNames).length) f.error([...tp, 'credentialNames'], 'credentialNames is not supported in Sidecar ingress TLS');
    if (list(tls.tlsCertificates).length) f.error([...tp, 'tlsCertificates'], 'tlsCertificates is not supported in Sidecar ingress TLS');
    const mode = str(tls.mode);
    if (mode === 'ISTIO_MUTUAL' || mode === 'AUTO_PASSTHROUGH') f.error([...tp, 'mode'], `TLS mode ${mode} cannot be used in Sidecar ingress TLS`);
    if (!isTLSProtocol(parseProtocol(str(port.protocol)))) f.error(tp, `a listener with protocol ${str(port.protocol)} cannot have TLS settings (only HTTPS and TLS)`);
    checkServerTLS(f, tp, tls);
  }
  checkConnectionPool(f, [...p, 'connectionPool'], ing.connectionPool);
  if (isSet(obj(ing.connectionPool)?.http) && !isHTTPProtocol(parseProtocol(str(port.protocol)))) {
    f.warn([...p, 'connectionPool', 'http'], `HTTP connection pool settings are set for port ${num(port.number)} ("${str(port.name)}"), whose protocol ${str(port.protocol)} is not HTTP; only the TCP settings apply`);
  }
}

/** Where inbound traffic is forwarded: 127.0.0.1:port, 0.0.0.0:port, [::1]:port, [::]:port or a unix socket. */
function checkDefaultEndpoint(f: Findings, p: FieldPath, endpoint: string): void {
  if (endpoint === '') return;
  if (endpoint.startsWith(UNIX_PREFIX)) {
    const err = checkUnixAddress(endpoint.slice(UNIX_PREFIX.length));
    if (err) f.error(p, err);
    return;
  }
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):([^:]*)$/.exec(endpoint);
  if (!m) {
    f.error(p, `defaultEndpoint "${endpoint}" is not of the form host:port`);
    return;
  }
  const host = m[1] ?? m[2] ?? '';
  if (host !== '' && !['127.0.0.1', '0.0.0.0', '::1', '::'].includes(host)) {
    f.error(p, 'defaultEndpoint must be 127.0.0.1:<port>, 0.0.0.0:<port>, [::1]:<port>, [::]:<port>, unix://<path> or unset');
  }
  if (!/^[-+]?\d+$/.test(m[3])) f.error(p, `defaultEndpoint port "${m[3]}" is not a number`);
  else {
    const err = checkPort(Number(m[3]));
    if (err) f.error(p, err);
  }
}

function checkListenerPort(f: Findings, p: FieldPath, port: Obj): void {
  const name = str(port.name);
  if (name !== '') {
    const err = checkPortName(name);
    if (err) f.error([...p, 'name'], err);
  }
  const protoErr = checkProtocol(str(port.protocol));
  if (protoErr) f.error([...p, 'protocol'], protoErr);
  const portErr = checkPort(num(port.number));
  if (portErr) f.error([...p, 'number'], portErr);
}

/** Port 0 means a unix socket listener, which needs a unix bind and DEFAULT/NONE capture. */
function checkEgressPort(f: Findings, p: FieldPath, port: Obj, bind: string, captureMode: string): void {
  const pp = [...p, 'port'];
  if (num(port.number) !== 0) {
    checkListenerPort(f, pp, port);
    if (bind !== '') {
      const err = checkIPAddress(bind);
      if (err) f.error([...p, 'bind'], err);
    }
    return;
  }
  const name = str(port.name);
  if (name !== '') {
    const err = checkPortName(name);
    if (err) f.error([...pp, 'name'], err);
  }
  const protoErr = checkProtocol(str(port.protocol));
  if (protoErr) f.error([...pp, 'protocol'], protoErr);
  if (!bind.startsWith(UNIX_PREFIX)) f.error([...p, 'bind'], 'a listener on port 0 needs a unix domain socket bind (unix://...)');
  else {
    const err = checkUnixAddress(bind.slice(UNIX_PREFIX.length));
    if (err) f.error([...p, 'bind'], err);
  }
  if (captureMode !== 'DEFAULT' && captureMode !== 'NONE') f.error([...p, 'captureMode'], 'unix domain socket listeners need captureMode DEFAULT or NONE');
}

/** `namespace/host` entries; repeated or shadowed entries are warned about (`*\/*` covers everything). */
function checkEgressHosts(f: Findings, p: FieldPath, listener: Obj, namespace: string): void {
  const hosts = list(listener.hosts).map(str);
  if (hosts.length === 0) {
    f.error(p, 'an egress listener needs at least one host');
    return;
  }
  const byNamespace = new Map<string, Set<string>>();
  hosts.forEach((host, i) => {
    const hp = [...p, 'hosts', i];
    const slash = host.indexOf('/');
    if (slash >= 0) {
      const ns = host.slice(0, slash) === '.' ? namespace : host.slice(0, slash);
      const svc = host.slice(slash + 1);
      let seen = byNamespace.get(ns);
      if (!seen) byNamespace.set(ns, (seen = new Set()));
      if (svc !== '*' ? seen.has(svc) || seen.has('*') : seen.size !== 0) f.warn(hp, `egress host ${host} is listed more than once`);
      seen.add(svc);
    }
    for (const err of checkNamespaceSlashHost(host, false)) f.error(hp, err);
  });
  if (byNamespace.get('*')?.has('*') && byNamespace.size !== 1) f.warn([...p, 'hosts'], 'the host */* selects everything, so no other hosts should be listed');
}

function checkOutboundTrafficPolicy(f: Findings, p: FieldPath, policy: Obj | undefined): void {
  if (!policy) return;
  const proxy = obj(policy.egressProxy);
  if (!isSet(policy.egressProxy)) return;
  if ((str(policy.mode) || 'REGISTRY_ONLY') !== 'ALLOW_ANY') {
    f.error([...p, 'egressProxy'], 'egressProxy can be set only with mode ALLOW_ANY');
    return;
  }
  const hostErr = checkFQDN(str(proxy?.host));
  if (hostErr) f.error([...p, 'egressProxy', 'host'], hostErr);
  if (!isSet(proxy?.port)) {
    f.error([...p, 'egressProxy'], 'egressProxy needs a port');
    return;
  }
  checkDestination(f, [...p, 'egressProxy'], proxy);
}
