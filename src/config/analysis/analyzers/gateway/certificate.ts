import type { Resource } from '../../../../api/resource.js';
import type { Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';
import { envBool, fullName, gatewaySelector, servers, type Labels } from './util.js';

// When two Gateways on the same proxy serve the same certificate, browsers reuse one HTTP/2
// connection for both hosts (the certificate covers both), and the proxy answers 404 for the
// host whose Gateway did not accept the connection. Flags Gateways that share a certificate
// with another Gateway selecting at least the same proxies.

const SCOPE_GATEWAY_TO_NAMESPACE = 'PILOT_SCOPE_GATEWAY_TO_NAMESPACE';

/** True when every key of `sub` is in `sup` with the same value (an empty selector is a subset of all). */
function selectorSubset(sub: Labels, sup: Labels): boolean {
  return Object.entries(sub).every(([k, v]) => Object.prototype.hasOwnProperty.call(sup, k) && sup[k] === v);
}

/**
 * Same certificate: the same credentialName, or, for file-mounted certificates, the same
 * serverCertificate and privateKey paths. A credentialName and a file path never compare equal.
 */
function sameCertificate(a: any, b: any): boolean {
  const credA = a?.credentialName ?? '', credB = b?.credentialName ?? '';
  if (credA !== '' && credB !== '') return credA === credB;
  if (credA !== '' || credB !== '') return false;
  const certA = a?.serverCertificate ?? '', certB = b?.serverCertificate ?? '';
  const keyA = a?.privateKey ?? '', keyB = b?.privateKey ?? '';
  return certA !== '' && certA === certB && keyA !== '' && keyA === keyB;
}

/** Other Gateways whose selector includes this one's, so they program (at least) the same proxies. */
function overlappingGateways(gw: Resource, all: readonly Resource[], scopeToNamespace: boolean): Resource[] {
  const selector = gatewaySelector(gw);
  return all.filter(
    (other) =>
      other !== gw &&
      (!scopeToNamespace || (other.metadata.namespace ?? '') === (gw.metadata.namespace ?? '')) &&
      selectorSubset(selector, gatewaySelector(other)),
  );
}

export const certificateAnalyzer: Analyzer = {
  name: 'gateway.CertificateAnalyzer',
  description: 'Finds the same TLS certificate served by several gateways on the same workload, which breaks HTTP/2 connection reuse',
  inputs: ['Gateway'],
  codes: ['IST0138'],
  analyze(ctx) {
    // With the flag on, a proxy only uses Gateways from its own namespace.
    const scoped = envBool(ctx.env, SCOPE_GATEWAY_TO_NAMESPACE, false);
    const gateways = ctx.list('Gateway');
    for (const gw of gateways) {
      for (const other of overlappingGateways(gw, gateways, scoped)) {
        const duplicated = servers(gw).some((s) => s?.tls && servers(other).some((o) => o?.tls && sameCertificate(s.tls, o.tls)));
        // Istio reports once per matching server pair, at the same line: those collapse to one.
        if (duplicated) ctx.report(newMessage('IST0138', gw, [[fullName(gw), fullName(other)]], ['metadata', 'name']));
      }
    }
  },
};
