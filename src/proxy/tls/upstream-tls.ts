import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import type { Endpoint } from '../../api/snapshot.js';
import { principalOf, spiffeFromSan } from '../../security/spiffe.js';
import type { ProxyContext } from '../proxy-context.js';
import type { RuntimeCluster } from '../upstream/cluster.js';
import type { UpstreamHost } from '../upstream/host.js';
import type { WorkloadCredentials } from './workload-credentials.js';

// The client side of mutual TLS (Envoy's upstream transport socket `tls` with Istio's SDS
// certificates). A cluster whose transport security is ISTIO_MUTUAL opens TLS connections that
// present this workload's certificate (the one in force at connect time) and accept a server
// whose certificate chains to the mesh root and names a SPIFFE id of the same trust domain.
// Auto mTLS (the control plane's default) only goes to endpoints with a sidecar. With no
// certificate yet the connection stays plaintext, as a sidecar without SDS secrets would.
// After a renewal, pooled connections made with the previous certificate finish what they carry
// and are not reused: the new certificate is in use as soon as the next request goes out.

/** How a pool opens a connection: plaintext (`connect`) or TLS (`secureConnect` once the handshake is done). */
export interface UpstreamConnector {
  readonly secure: boolean;
  readonly readyEvent: 'connect' | 'secureConnect';
  open(e: Endpoint): Socket;
  /** The connection was opened with a certificate that has since been renewed: pools stop reusing it once idle. */
  stale(socket: Socket): boolean;
}

const GENERATION = Symbol('meshmedic.certificateGeneration');
type Tagged = Socket & { [GENERATION]?: number };

export const PLAINTEXT: UpstreamConnector = {
  secure: false,
  readyEvent: 'connect',
  open: (e) => (e.socketPath ? netConnect({ path: e.socketPath }) : netConnect({ host: e.address, port: e.port, noDelay: true })),
  stale: () => false,
};

const connectors = new WeakMap<WorkloadCredentials, UpstreamConnector>();

/** One mTLS connector per sidecar's credentials (no allocation per request). */
export function mtlsConnector(creds: WorkloadCredentials): UpstreamConnector {
  let c = connectors.get(creds);
  if (c) return c;
  c = {
    secure: true,
    readyEvent: 'secureConnect',
    open(e: Endpoint): Socket {
      const m = creds.current!;
      const checkServerIdentity = (_host: string, cert: PeerCertificate): Error | undefined => {
        const uri = spiffeFromSan(cert.subjectaltname);
        if (!uri) return new Error('server certificate has no SPIFFE id');
        if (principalOf(uri).split('/')[0] !== m.trustDomain) return new Error(`server id ${uri} is outside trust domain ${m.trustDomain}`);
        return undefined;
      };
      const socket: Tagged = e.socketPath
        ? tlsConnect({ path: e.socketPath, secureContext: m.secureContext, rejectUnauthorized: true, checkServerIdentity })
        : tlsConnect({ host: e.address, port: e.port, secureContext: m.secureContext, rejectUnauthorized: true, checkServerIdentity, servername: '' }).setNoDelay(true);
      socket[GENERATION] = creds.installed;
      return socket;
    },
    stale: (socket) => (socket as Tagged)[GENERATION] !== creds.installed,
  };
  connectors.set(creds, c);
  return c;
}

/** The connector for one request's host: mTLS when the cluster asks for it (and, auto, the endpoint has a sidecar) and a certificate is in. */
export function upstreamConnector(cluster: RuntimeCluster, host: UpstreamHost, ctx: ProxyContext): UpstreamConnector | null {
  const ts = cluster.def.transportSecurity;
  if (ts === undefined || ts.mode !== 'ISTIO_MUTUAL') return null;
  if (ts.auto && host.endpoint.tlsMode !== 'istio') return null;
  const creds = ctx.tls;
  if (!creds || creds.current === null) return null;
  return mtlsConnector(creds);
}

/** Error code of an upstream TLS handshake that failed (counted as a connect failure, UF). */
export const TLS_HANDSHAKE_FAILED = 'UPSTREAM_TLS_HANDSHAKE_FAILED';

export function handshakeFailure(err: Error): Error {
  return Object.assign(new Error(`TLS handshake: ${err.message}`), { code: TLS_HANDSHAKE_FAILED, cause: err });
}
