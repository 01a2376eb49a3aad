import { Pool } from 'undici';
import type { Endpoint } from '../../api/snapshot.js';

// One upstream endpoint and its connection pool (undici Pool: keep-alive HTTP/1.1, one per
// endpoint). A host outlives snapshots while its endpoint stays, so its connections and its
// count of active requests (read by LEAST_REQUEST) carry over a config change.

/** Istio's default connect timeout. */
const CONNECT_TIMEOUT_MS = 10_000;

export function endpointKey(e: Endpoint): string {
  return e.socketPath ? `unix:${e.socketPath}` : `${e.address}:${e.port}`;
}

export class UpstreamHost {
  /** Requests in flight to this host (LEAST_REQUEST, later circuit breakers). */
  active = 0;
  private pool: Pool | null = null;

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
      keepAliveTimeout: 60_000,
    };
    this.pool = e.socketPath ? new Pool('http://localhost', { ...common, socketPath: e.socketPath }) : new Pool(`http://${hostForUrl(e.address)}:${e.port}`, common);
    return this.pool;
  }

  /** Lets requests in flight finish, then closes the connections. */
  close(): Promise<void> {
    const p = this.pool;
    this.pool = null;
    return p ? p.close().catch(() => undefined) : Promise.resolve();
  }

  destroy(): Promise<void> {
    const p = this.pool;
    this.pool = null;
    return p ? p.destroy().catch(() => undefined) : Promise.resolve();
  }
}

const hostForUrl = (a: string) => (a.includes(':') ? `[${a}]` : a);
