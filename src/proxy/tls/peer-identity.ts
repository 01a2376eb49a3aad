import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { principalOf, spiffeFromSan } from '../../security/spiffe.js';

// What a connection tells about its peer: the peer's SPIFFE principal when it came over mutual
// TLS (read once, at the handshake, and kept on the socket), nothing otherwise. Filters read it
// per request without touching the certificate again.

const PEER = Symbol('meshmedic.peer');

export interface ConnectionSecurity {
  /** `cluster.local/ns/x/sa/y`, '' when the peer showed no SPIFFE id. */
  principal: string;
  mtls: true;
  /** Serial number of the peer's certificate (hex, upper case as node:tls reports it): which of its rotated certificates it used. */
  serial: string;
}

type Tagged = { [PEER]?: ConnectionSecurity };

/** Records the peer of a server-side TLS socket whose client chain verified; false when the client showed no certificate. */
export function recordPeer(socket: TLSSocket): boolean {
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.raw) return false;
  const uri = spiffeFromSan(cert.subjectaltname);
  (socket as unknown as Tagged)[PEER] = { principal: uri ? principalOf(uri) : '', mtls: true, serial: cert.serialNumber ?? '' };
  return true;
}

/** The connection's security (undefined: plaintext). */
export function connectionSecurity(socket: Socket | undefined | null): ConnectionSecurity | undefined {
  return socket ? (socket as unknown as Tagged)[PEER] : undefined;
}
