import { Pool } from 'undici';
import type { Endpoint } from '../../api/snapshot.js';
import { H1Pool } from './h1-client.js';
import { H2Client } from './h2-client.js';

// One upstream endpoint and its connection pools (keep-alive HTTP/1.1: our H1Pool for requests
// without a body, an undici Pool for the others; an h2c session for clusters of protocol http2). A host outlives snapshots while its endpoint
// stays, so its connections and its count of active requests (read by LEAST_REQUEST) carry over
// a config change.

/** Istio's default connect timeout. */
const CONNECT_TIMEOUT_MS = 10_000;
const KEEP_ALIVE_TIMEOUT_MS = 60_000;

export function endpointKey(e: Endpoint): string {
  return e.socketPath ? `unix:${e.socketPath}` : `${e.address}:${e.port}`;
}

export class UpstreamHost {
  /** Requests in flight to this host (LEAST_REQUEST, later circuit breakers). */
  active = 0;
  private pool: Pool | null = null;
  private h1Pool: H1Pool | null = null;
  private h2Client: H2Client | null = null;

  constructor(
    readonly key: string,
    public endpoint: Endpoint,
  ) {}

  /** The dispatcher, created on first use. */
  dispatcher(): Pool {
    if (this.pool) return this.pool;
    const e = this.endpoint;
    const common = {
      connectTimeout: CONNECT_TIMEOUT_MS,
      // Istio has no request timeout unless a route sets one: the resilience filters own time limits.
      headersTimeout: 0,
      bodyTimeout: 0,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    };
    this.pool = e.socketPath ? new Pool('http://localhost', { ...common, socketPath: e.socketPath }) : new Pool(`http://${hostForUrl(e.address)}:${e.port}`, common);
    return this.pool;
  }

  /** The client for requests without a body (h1-client.ts says why), created on first use. */
  h1(): H1Pool {
    return (this.h1Pool ??= new H1Pool(this.endpoint, CONNECT_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS));
  }

  /** The h2c session (clusters of protocol http2), created on first use. */
  h2(): H2Client {
    return (this.h2Client ??= new H2Client(this.endpoint, CONNECT_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS));
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
    const { pool, h1Pool, h2Client } = this;
    this.pool = null;
    this.h1Pool = null;
    this.h2Client = null;
    return Promise.all([pool?.[how]().catch(() => undefined), h1Pool?.[how](), h2Client?.[how]()]).then(() => undefined);
  }
}

const hostForUrl = (a: string) => (a.includes(':') ? `[${a}]` : a);
