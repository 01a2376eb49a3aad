import { X509Certificate } from 'node:crypto';
import { namespaceOf, type Resource } from '../../../../api/resource.js';
import type { Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';
import { gatewaySelector, podsSelectedBy, selectorPath, selectorString, servers } from './util.js';

// A Gateway server with `tls.credentialName` serves the certificate from a Secret that the
// gateway proxy reads from its OWN namespace (the namespace of the selected pods, not of the
// Gateway resource). A missing Secret, one without a usable cert/key pair, or an expired or
// not-yet-valid certificate makes the TLS listener fail. Flags each such server.

/** Where the gateway proxy looks for secrets: the namespace of the pods it selects. */
function gatewayWorkloadNamespace(gw: Resource, pods: readonly Resource[]): string {
  // Istio assumes all selected pods share a namespace and takes the first one it finds.
  const pod = podsSelectedBy(pods, gatewaySelector(gw)).find((p) => namespaceOf(p) !== '');
  return pod ? namespaceOf(pod) : '';
}

/** `credentialName` is `name` (in the gateway's namespace) or `namespace/name`. */
function secretRef(credentialName: string, defaultNs: string): [string, string] {
  const slash = credentialName.indexOf('/');
  return slash < 0 ? [defaultNs, credentialName] : [credentialName.slice(0, slash), credentialName.slice(slash + 1)];
}

function decoded(data: Record<string, unknown>, key: string): Buffer {
  const v = data[key];
  return typeof v === 'string' ? Buffer.from(v, 'base64') : Buffer.alloc(0);
}

/**
 * The certificate of a TLS secret, as istiod reads it: the generic `cert`/`key` pair first,
 * then the kubernetes.io/tls `tls.crt`/`tls.key` pair; both values must be non-empty.
 */
function certificateOf(secret: Resource): Buffer | undefined {
  const data: Record<string, unknown> = secret.raw.data ?? {};
  for (const [certKey, keyKey] of [['cert', 'key'], ['tls.crt', 'tls.key']]) {
    const cert = decoded(data, certKey);
    if (cert.length > 0 && decoded(data, keyKey).length > 0) return cert;
  }
  return undefined;
}

/** DER bytes of the first PEM block in the text, whatever its type (like Go's pem.Decode). */
function firstPemBlock(text: string): Buffer | undefined {
  const m = /-----BEGIN ([^-\r\n]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) return undefined;
  const body = m[2]
    .split(/\r?\n/)
    .filter((line) => !line.includes(':')) // PEM headers such as `Proc-Type: ...`
    .join('');
  return Buffer.from(body, 'base64');
}

/** True when the first certificate parses and `now` lies within its validity period. */
export function certificateCurrentlyValid(pem: Buffer, now = new Date()): boolean {
  const der = firstPemBlock(pem.toString('latin1'));
  if (!der || der.length === 0) return false;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch {
    return false;
  }
  const notBefore = Date.parse(cert.validFrom);
  const notAfter = Date.parse(cert.validTo);
  if (Number.isNaN(notBefore) || Number.isNaN(notAfter)) return false;
  return now.getTime() >= notBefore && now.getTime() <= notAfter;
}

function secretUsable(secret: Resource): boolean {
  const cert = certificateOf(secret);
  return cert !== undefined && certificateCurrentlyValid(cert);
}

export const secretAnalyzer: Analyzer = {
  name: 'gateway.SecretAnalyzer',
  description: 'Checks that the TLS credentials a gateway names exist next to its workload and hold a valid, unexpired certificate',
  inputs: ['Gateway', 'Pod', 'Secret'],
  codes: ['IST0101', 'IST0161'],
  analyze(ctx) {
    const pods = ctx.list('Pod');
    for (const gw of ctx.list('Gateway')) {
      const gwNs = gatewayWorkloadNamespace(gw, pods);
      if (gwNs === '') {
        // No workload: there is no namespace to look for secrets in, so report that instead.
        const selector = gatewaySelector(gw);
        ctx.report(newMessage('IST0101', gw, ['selector', selectorString(selector)], selectorPath(selector)));
        continue;
      }
      servers(gw).forEach((server, i) => {
        const cn = server?.tls?.credentialName;
        if (typeof cn !== 'string' || cn === '') return;
        const path = ['spec', 'servers', i, 'tls', 'credentialName'];
        const [ns, name] = secretRef(cn, gwNs);
        const secret = ctx.get('Secret', ns, name);
        if (!secret) ctx.report(newMessage('IST0101', gw, ['credentialName', cn], path));
        else if (!secretUsable(secret)) ctx.report(newMessage('IST0161', gw, [`${ns}/${name}`], path));
      });
    }
  },
};
