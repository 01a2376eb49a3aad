// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API first.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// The X.509 toolkit the CA and the sidecars share: ECDSA P-256 keys (fast to make and to
// handshake with), PEM in and out. node:crypto reads and verifies certificates but cannot build
// a CSR or sign a certificate; @peculiar/x509 does both over WebCrypto.

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;

export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
}

export async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key as unknown as webcrypto.CryptoKey);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

export async function importPrivateKey(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decode(pem)[0];
  return (await webcrypto.subtle.importKey('pkcs8', der, KEY_ALGORITHM, true, ['sign'])) as unknown as CryptoKey;
}

/** A CSR for a workload key; the CA decides the identity, so the CSR only proves the key. */
export async function createCsr(keys: CryptoKeyPair, commonName: string): Promise<string> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${escapeDn(commonName)}`, keys, signingAlgorithm: SIGNING_ALGORITHM });
  return csr.toString('pem');
}

function escapeDn(v: string): string {
  return v.replace(/[,=+<>#;\\"]/g, (c) => `\\${c}`);
}

export { x509 };
