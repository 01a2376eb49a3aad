import type { FieldPath, Resource } from '../../../../api/resource.js';
import { checkNamespaceSlashHost, isDNS1123Label } from './check-hosts.js';
import { checkIPAddress } from './check-ip-addresses.js';
import { checkPort } from './check-ports.js';
import { isHTTPProtocol, isTLSProtocol, parseProtocol } from './check-protocols.js';
import type { Findings } from './findings.js';
import { isSet, list, num, obj, str, truthy, type Obj } from './yaml-values.js';

// Gateway rules (Istio's ValidateGateway): every server needs hosts, a named port with a known
// protocol, and TLS settings that fit the protocol and TLS mode. A gateway istiod rejects
// leaves its listeners unconfigured, so these are worth catching before deploying.

const GATEWAY_SEMANTICS_ANNOTATION = 'internal.istio.io/gateway-semantics';
const UNIX_PREFIX = 'unix://';

export function validateGateway(r: Resource, f: Findings): void {
  const spec = obj(r.spec) ?? {};
  // Gateways generated from the Gateway API may have names that are not DNS labels.
  const gatewaySemantics = r.metadata.annotations?.[GATEWAY_SEMANTICS_ANNOTATION] === 'gateway';
  if (!isDNS1123Label(r.metadata.name) && !gatewaySemantics) {
    f.error(['metadata', 'name'], `gateway name "${r.metadata.name}" is not a DNS-1123 label (no dots)`);
  }
  const servers = list(spec.servers);
  if (servers.length === 0) f.error(['spec'], 'a gateway needs at least one server');
  servers.forEach((s, i) => checkServer(f, ['spec', 'servers', i], s, gatewaySemantics));

  const portNames = new Set<string>();
  servers.forEach((raw, i) => {
    const server = obj(raw);
    if (!server) {
      f.error(['spec', 'servers', i], 'server must not be null');
      return;
    }
    const port = obj(server.port);
    if (!port) return;
    const name = str(port.name);
    if (portNames.has(name)) f.error(['spec', 'servers', i, 'port', 'name'], `port name ${name} is used by more than one server`);
    portNames.add(name);
    if (!isHTTPProtocol(parseProtocol(str(port.protocol))) && truthy(obj(server.tls)?.httpsRedirect)) {
      f.warn(['spec', 'servers', i, 'tls', 'httpsRedirect'], 'httpsRedirect only makes sense on HTTP servers');
    }
  });
}

function checkServer(f: Findings, p: FieldPath, raw: unknown, gatewaySemantics: boolean): void {
  const server = obj(raw);
  if (!server) {
    f.error(p, 'server must not be null');
    return;
  }
  const hosts = list(server.hosts).map(str);
  if (hosts.length === 0) f.error(p, 'a server needs at least one host');
  hosts.forEach((h, i) => {
    for (const err of checkNamespaceSlashHost(h, true, gatewaySemantics)) f.error([...p, 'hosts', i], err);
  });
  const bind = str(server.bind);
  const portOk = checkServerPort(f, [...p, 'port'], obj(server.port), bind);
  checkServerBind(f, p, obj(server.port), bind);
  checkServerTLS(f, [...p, 'tls'], obj(server.tls));

  if (portOk) {
    const protocol = parseProtocol(str(obj(server.port)?.protocol));
    const tls = obj(server.tls);
    if (isTLSProtocol(protocol) && !isSet(server.tls)) {
      f.error(p, `a server with protocol ${protocol} needs tls settings`);
    } else if (!isTLSProtocol(protocol) && tls) {
      if (isHTTPProtocol(protocol)) {
        // Plain HTTP servers may carry tls only for httpsRedirect.
        const mode = str(tls.mode) || 'PASSTHROUGH';
        const passthrough = mode === 'PASSTHROUGH' || mode === 'AUTO_PASSTHROUGH';
        if (!passthrough || str(tls.caCertificates) || str(tls.privateKey) || str(tls.serverCertificate)) {
          f.error([...p, 'tls'], 'a plain-text HTTP server cannot have TLS settings (other than httpsRedirect)');
        }
      } else {
        f.error([...p, 'tls'], `a server with protocol ${str(obj(server.port)?.protocol)} cannot have TLS settings`);
      }
    }
  }
}

/** Returns whether the port is valid (the protocol/TLS cross-check needs it). */
function checkServerPort(f: Findings, p: FieldPath, port: Obj | undefined, bind: string): boolean {
  if (!port) {
    f.error(p, 'a server needs a port');
    return false;
  }
  let ok = true;
  const fail = (path: FieldPath, text: string) => {
    f.error(path, text);
    ok = false;
  };
  const protocol = str(port.protocol);
  if (parseProtocol(protocol) === 'Unsupported') {
    fail([...p, 'protocol'], `invalid protocol "${protocol}"; use HTTP, HTTPS, HTTP2, GRPC, GRPC-WEB, MONGO, REDIS, MYSQL, TCP or TLS`);
  }
  const number = num(port.number);
  if (number > 0 || !bind.startsWith(UNIX_PREFIX)) {
    const err = checkPort(number);
    if (err) fail([...p, 'number'], err);
  }
  if (num(port.targetPort) > 0) fail([...p, 'targetPort'], 'targetPort has no effect on gateways');
  if (str(port.name) === '') fail(p, 'a server port needs a name');
  return ok;
}

function checkServerBind(f: Findings, p: FieldPath, port: Obj | undefined, bind: string): void {
  if (bind.startsWith(UNIX_PREFIX)) {
    const err = checkUnixAddress(bind.slice(UNIX_PREFIX.length));
    if (err) f.error([...p, 'bind'], err);
    if (port && num(port.number) !== 0) f.error([...p, 'port', 'number'], 'port number must be 0 for a unix domain socket');
  } else if (bind !== '') {
    const err = checkIPAddress(bind);
    if (err) f.error([...p, 'bind'], err);
  }
}

/** A unix socket path: absolute, not a directory, or an abstract socket (`@name`). */
export function checkUnixAddress(addr: string): string | undefined {
  if (addr === '') return 'unix address must not be empty';
  if (addr.startsWith('@')) return undefined;
  if (!addr.startsWith('/') || addr.endsWith('/')) return `${addr} is not an absolute path to a file`;
  return undefined;
}

/** TLS cipher suites a gateway understands (BoringSSL names, PSK ones left out). */
const CIPHER_SUITES = new Set([
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305', 'ECDHE-ECDSA-AES128-SHA', 'ECDHE-RSA-AES128-SHA',
  'ECDHE-ECDSA-AES256-SHA', 'ECDHE-RSA-AES256-SHA', 'AES128-GCM-SHA256', 'AES256-GCM-SHA384', 'AES128-SHA', 'AES256-SHA', 'DES-CBC3-SHA',
]);

function isValidCipherSuite(cs: string): boolean {
  if (cs === '' || cs === 'ALL') return true;
  // Expressions with operators (`-`, `+`, `!`) are passed through unchecked.
  if (!/^[\p{L}\p{N}]/u.test(cs)) return true;
  return CIPHER_SUITES.has(cs);
}

/** Server-side TLS of gateways and Sidecar ingress listeners: what each mode needs and forbids. */
export function checkServerTLS(f: Findings, p: FieldPath, tls: Obj | undefined): void {
  if (!tls) return;
  const mode = str(tls.mode) || 'PASSTHROUGH';
  const has = (k: string) => str(tls[k]) !== '';
  const minVersion = str(tls.minProtocolVersion);
  const ciphers = list(tls.cipherSuites).map(str);
  if ((minVersion === 'TLSV1_0' || minVersion === 'TLSV1_1') && ciphers.length === 0) {
    f.warn([...p, 'minProtocolVersion'], 'TLS versions below 1.2 need cipherSuites set: the default ciphers no longer include compatible ones');
  }
  const invalid = new Set<string>(), valid = new Set<string>(), duplicate = new Set<string>();
  for (const cs of ciphers) {
    if (!isValidCipherSuite(cs)) invalid.add(cs);
    else if (valid.has(cs)) duplicate.add(cs);
    else valid.add(cs);
  }
  if (invalid.size) f.warn([...p, 'cipherSuites'], `unknown cipher suites are ignored: ${[...invalid].sort().join(', ')}`);
  if (duplicate.size) f.warn([...p, 'cipherSuites'], `duplicate cipher suites are ignored: ${[...duplicate].sort().join(', ')}`);

  const tlsCertificates = list(tls.tlsCertificates).map((c) => obj(c) ?? {});
  const credentialNames = list(tls.credentialNames);
  if (mode === 'ISTIO_MUTUAL') {
    // Istio provides the certificates itself.
    if (has('serverCertificate')) f.error([...p, 'serverCertificate'], 'ISTIO_MUTUAL TLS cannot have a serverCertificate');
    if (has('privateKey')) f.error([...p, 'privateKey'], 'ISTIO_MUTUAL TLS cannot have a privateKey');
    if (has('caCertificates')) f.error([...p, 'caCertificates'], 'ISTIO_MUTUAL TLS cannot have caCertificates');
    if (tlsCertificates.length) f.error([...p, 'tlsCertificates'], 'ISTIO_MUTUAL TLS cannot have tlsCertificates');
    if (has('credentialName')) f.error([...p, 'credentialName'], 'ISTIO_MUTUAL TLS cannot have a credentialName');
    if (credentialNames.length) f.error([...p, 'credentialNames'], 'ISTIO_MUTUAL TLS cannot have credentialNames');
    return;
  }
  const anyCertificate = ['caCrl', 'serverCertificate', 'privateKey', 'caCertificates', 'credentialName'].some(has) || tlsCertificates.length > 0 || credentialNames.length > 0;
  if ((mode === 'PASSTHROUGH' || mode === 'AUTO_PASSTHROUGH') && anyCertificate) {
    f.warn(p, `${mode} mode does not use certificates; they are ignored`);
  }
  // Certificates come from exactly one place.
  const sources = [has('serverCertificate') && has('privateKey'), has('credentialName'), credentialNames.length > 0, tlsCertificates.length > 0].filter(Boolean).length;
  if (sources > 1) f.error(p, 'set only one of credentialName, credentialNames, serverCertificate/privateKey and tlsCertificates');

  const terminating = mode === 'SIMPLE' || mode === 'MUTUAL' || mode === 'OPTIONAL_MUTUAL';
  // With credentialName(s) the certificates come from secrets.
  if (terminating && (has('credentialName') || credentialNames.length > 0)) return;
  if (terminating) {
    const label = mode === 'SIMPLE' ? 'SIMPLE TLS' : `${mode} TLS`;
    if (mode !== 'SIMPLE' && !has('caCertificates')) f.error(p, `${label} needs caCertificates to verify clients (or a credentialName)`);
    if (tlsCertificates.length > 2) f.warn([...p, 'tlsCertificates'], `${label} supports at most 2 server certificates`);
    const certs = tlsCertificates.length ? tlsCertificates : [{ serverCertificate: tls.serverCertificate, privateKey: tls.privateKey }];
    certs.forEach((c, i) => {
      const cp = tlsCertificates.length ? [...p, 'tlsCertificates', i] : p;
      if (str(c.serverCertificate) === '') f.error(cp, `${label} needs a serverCertificate (or a credentialName)`);
      if (str(c.privateKey) === '') f.error(cp, `${label} needs a privateKey (or a credentialName)`);
    });
  }
  if (has('caCrl')) {
    if (has('credentialName')) f.error([...p, 'caCrl'], 'caCrl cannot be used with credentialName: put the CRL in the credential');
    if (mode === 'SIMPLE') f.error([...p, 'caCrl'], 'caCrl is not supported with SIMPLE TLS');
  }
}
