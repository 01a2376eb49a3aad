import { randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spiffeUri, type SpiffeId } from './spiffe.js';
import { generateKeyPair, importPrivateKey, privateKeyPem, SIGNING_ALGORITHM, x509 } from './x509.js';

// The mesh's certificate authority (istiod's Citadel): a self-signed root whose key and
// certificate live in the state directory (mode 0600, directory 0700) so a restarted control
// plane keeps the trust every sidecar holds, and short-lived workload certificates whose only
// identity is a SPIFFE URI SAN. The identity is the CA's decision (from the registry), never
// the CSR's: a CSR only proves possession of the key.
//
// Validity is wall-clock time because TLS peers check it against the wall clock; schedules that
// depend on it (rotation) run on an injected clock in the sidecar.

export interface MeshCaOptions {
  /** Where the root lives (`<dir>/ca/`); absent: an in-memory root (tests). */
  stateDir?: string;
  /** Root lifetime (default 10 years, as Istio's self-signed root). */
  rootTtlMs?: number;
  now?: () => number;
}

export interface IssuedCertificate {
  certPem: string;
  /** The trust bundle (the root) the peer certificates chain to. */
  rootPem: string;
  spiffeId: string;
  notBefore: number;
  notAfter: number;
  serial: string;
}

const YEAR_MS = 365 * 24 * 3600_000;
/** Workload certificates start a minute in the past: peers' clocks may lag (Istio backdates too). */
const BACKDATE_MS = 60_000;

export class MeshCa {
  private constructor(
    private readonly rootKey: CryptoKey,
    private readonly rootCert: x509.X509Certificate,
    readonly rootPem: string,
    private readonly now: () => number,
  ) {}

  static async open(opts: MeshCaOptions = {}): Promise<MeshCa> {
    const now = opts.now ?? Date.now;
    const dir = opts.stateDir ? join(opts.stateDir, 'ca') : undefined;
    const keyFile = dir && join(dir, 'root-key.pem');
    const certFile = dir && join(dir, 'root-cert.pem');
    if (keyFile && certFile && existsSync(keyFile) && existsSync(certFile)) {
      const certPem = readFileSync(certFile, 'utf8');
      const key = await importPrivateKey(readFileSync(keyFile, 'utf8'));
      return new MeshCa(key, new x509.X509Certificate(certPem), certPem, now);
    }
    const keys = await generateKeyPair();
    const t = now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomSerial(),
      name: 'O=meshmedic, CN=meshmedic mesh root CA',
      notBefore: new Date(t - BACKDATE_MS),
      notAfter: new Date(t + (opts.rootTtlMs ?? 10 * YEAR_MS)),
      keys,
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    const certPem = cert.toString('pem');
    if (dir && keyFile && certFile) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileSync(keyFile, await privateKeyPem(keys.privateKey), { mode: 0o600 });
      writeFileSync(certFile, certPem, { mode: 0o600 });
    }
    return new MeshCa(keys.privateKey, cert, certPem, now);
  }

  /** Signs a workload certificate for `id` over the CSR's key. Throws CsrError on a CSR that does not verify. */
  async sign(csrPem: string, id: SpiffeId, ttlMs: number): Promise<IssuedCertificate> {
    let csr: x509.Pkcs10CertificateRequest;
    try {
      csr = new x509.Pkcs10CertificateRequest(csrPem);
    } catch (e) {
      throw new CsrError(`the CSR is not a PEM PKCS#10 request: ${(e as Error).message}`);
    }
    if (!(await csr.verify())) throw new CsrError('the CSR signature does not verify');
    const uri = spiffeUri(id);
    const t = this.now();
    const notBefore = t - BACKDATE_MS;
    const notAfter = t + ttlMs;
    const serial = randomSerial();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial,
      subject: 'O=meshmedic',
      issuer: this.rootCert.subject,
      notBefore: new Date(notBefore),
      notAfter: new Date(notAfter),
      publicKey: csr.publicKey,
      signingKey: this.rootKey,
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: uri }], true),
        await x509.AuthorityKeyIdentifierExtension.create(this.rootCert, false),
      ],
    });
    return { certPem: cert.toString('pem'), rootPem: this.rootPem, spiffeId: uri, notBefore, notAfter, serial };
  }
}

export class CsrError extends Error {}

function randomSerial(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f; // positive
  return b.toString('hex');
}

/** Reads a PEM certificate's validity and SPIFFE id with node:crypto (what a sidecar checks of what it got). */
export function describeCertificate(pem: string): { notBefore: number; notAfter: number; spiffeId: string | null; serial: string } {
  const c = new X509Certificate(pem);
  const uri = /URI:(spiffe:\/\/[^,\s]+)/.exec(c.subjectAltName ?? '');
  return { notBefore: Date.parse(c.validFrom), notAfter: Date.parse(c.validTo), spiffeId: uri ? uri[1] : null, serial: c.serialNumber };
}
