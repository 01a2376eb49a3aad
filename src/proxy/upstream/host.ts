import type { Endpoint } from '../../api/snapshot.js';
import type { ConnectionPoolSettings } from './connection-pool-settings.js';
import { H1Pool } from './h1-client.js';
import { H2Client } from './h2-client.js';
import type { UpstreamConnector } from '../tls/upstream-tls.js';

// One upstream endpoint and its connections: a keep-alive HTTP/1.1 pool (h1-client.ts) and an
// h2c session for clusters of protocol http2. A host outlives snapshots while its endpoint
// stays, so its connections and its count of active requests (read by LEAST_REQUEST) carry over
// a config change. The limits of each request's cluster travel with the request.

export function endpointKey(e: Endpoint): string {
  return e.socketPath ? `unix:${e.socketPath}` : `${e.address}:${e.port}`;
}

export class UpstreamHost {
  /** Requests in flight to this host (LEAST_REQUEST). */
  active = 0;
  private h1Pool: H1Pool | null = null;
  private h2Client: H2Client | null = null;
  /** Mutual TLS connections to the same endpoint (ISTIO_MUTUAL clusters) are pooled apart from plaintext ones. */
  private h1TlsPool: H1Pool | null = null;
  private h2TlsClient: H2Client | null = null;

  constructor(
    readonly key: string,
    public endpoint: Endpoint,
  ) {}

  /** The HTTP/1.1 connection pool, created on first use. */
  h1(connector: UpstreamConnector | null = null): H1Pool {
    if (connector !== null) return (this.h1TlsPool ??= new H1Pool(this.endpoint, connector));
    return (this.h1Pool ??= new H1Pool(this.endpoint));
  }

  /** The h2c session (clusters of protocol http2), created on first use with the timeouts of the cluster that first needs it. */
  h2(settings: Readonly<ConnectionPoolSettings>, connector: UpstreamConnector | null = null): H2Client {
    if (connector !== null) return (this.h2TlsClient ??= new H2Client(this.endpoint, settings.connectTimeoutMs, settings.idleTimeoutMs, connector));
    return (this.h2Client ??= new H2Client(this.endpoint, settings.connectTimeoutMs, settings.idleTimeoutMs));
  }

  /** Lets requests in flight finish, then closes the connections. */
  close(): Promise<void> {
    return this.release('close');
  }

  /** Cuts the connections now. */
  destroy(): Promise<void> {
    return this.release('destroy');
  }

  private release(how: 'close' | 'destroy'): Promise<void> {
    const { h1Pool, h2Client, h1TlsPool, h2TlsClient } = this;
    this.h1Pool = null;
    this.h2Client = null;
    this.h1TlsPool = null;
    this.h2TlsClient = null;
    return Promise.all([h1Pool?.[how](), h2Client?.[how](), h1TlsPool?.[how](), h2TlsClient?.[how]()]).then(() => undefined);
  }
}
