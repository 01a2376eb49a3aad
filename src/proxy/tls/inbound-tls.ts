import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { MtlsMaterial } from './workload-credentials.js';
import { recordPeer } from './peer-identity.js';

// The server side of mutual TLS on an inbound listener (Envoy's inbound filter chains under
// PeerAuthentication). The first byte of a connection decides: 0x16 (a TLS handshake record)
// is mutual TLS, anything else plaintext. STRICT closes plaintext connections; PERMISSIVE takes
// both; a TLS connection whose client shows no certificate of the mesh is closed after the
// handshake fails. The certificate is the one in force when the connection arrives (rotation
// swaps it for later connections only).

export type InboundTlsMode = 'STRICT' | 'PERMISSIVE';

/** A TLS ClientHello starts with a handshake record (content type 22). */
export function looksLikeTls(first: Buffer): boolean {
  return first.length > 0 && first[0] === 0x16;
}

/**
 * Runs the handshake on a socket whose first bytes were read and unshifted; `onSecure` gets the
 * decrypted socket once the client's certificate verified, `onRefused` the reason otherwise.
 */
export function acceptMutualTls(socket: Socket, material: MtlsMaterial, onSecure: (s: TLSSocket) => void, onRefused: (reason: string) => void): void {
  socket.on('error', () => undefined); // the TLS socket reports; the raw one must not throw unheard
  const tls = new TLSSocket(socket, { isServer: true, secureContext: material.secureContext, requestCert: true, rejectUnauthorized: true });
  let done = false;
  const fail = (reason: string) => {
    if (done) return;
    done = true;
    onRefused(reason);
    tls.destroy();
    socket.destroy();
  };
  tls.once('secure', () => {
    // A TLSSocket made by hand (not by tls.Server) leaves the verdict of the client's chain to
    // its owner: the same check tls.Server's onServerSocketSecure makes.
    const verifyError = (tls as unknown as { _handle?: { verifyError(): Error | null } })._handle?.verifyError();
    if (verifyError) return fail(`client certificate not verified: ${(verifyError as NodeJS.ErrnoException).code ?? verifyError.message}`);
    if (!recordPeer(tls)) return fail('client presented no certificate');
    done = true;
    onSecure(tls);
  });
  tls.on('error', (e: Error) => fail(`TLS handshake: ${e.message}`));
}
