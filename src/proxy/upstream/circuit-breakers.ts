import type { Stats } from '../stats.js';
import type { ConnectionPoolSettings } from './connection-pool-settings.js';

// Envoy's cluster resource manager: what the cluster holds right now against the limits of its
// DestinationRule's connectionPool. One per cluster of a snapshot; whoever takes a resource
// gives it back to the same object, so a config change never skews the counts of requests and
// connections that outlive it. A refused resource is an overflow, counted under Envoy's stat
// names (`cluster.<name>.upstream_rq_pending_overflow`...) and answered 503 UO.

export type OverflowStat = 'upstream_cx_overflow' | 'upstream_rq_pending_overflow' | 'upstream_rq_overflow' | 'upstream_rq_retry_overflow';

export class CircuitBreakers {
  /** Open upstream connections (opened for this cluster). */
  connections = 0;
  /** Requests waiting for a connection (queued, or waiting for their new connection to connect). */
  pending = 0;
  /** Requests in flight, every try counted. */
  requests = 0;
  /** Retries waiting for their backoff to end. */
  retries = 0;

  constructor(
    readonly clusterName: string,
    readonly settings: Readonly<ConnectionPoolSettings>,
    private readonly stats: Stats,
  ) {}

  canOpenConnection(): boolean {
    return this.connections < this.settings.maxConnections;
  }

  canQueue(): boolean {
    return this.pending < this.settings.maxPendingRequests;
  }

  canSendRequest(): boolean {
    return this.requests < this.settings.maxRequests;
  }

  canRetry(): boolean {
    return this.retries < this.settings.maxRetries;
  }

  overflow(stat: OverflowStat): void {
    this.stats.inc(`cluster.${this.clusterName}.${stat}`);
  }

  /** The counters and limits, for the admin server. */
  toJSON(): Record<string, number | null> {
    const s = this.settings;
    const lim = (n: number) => (Number.isFinite(n) ? n : null);
    return {
      connections: this.connections,
      maxConnections: lim(s.maxConnections),
      pending: this.pending,
      maxPendingRequests: lim(s.maxPendingRequests),
      requests: this.requests,
      maxRequests: lim(s.maxRequests),
      retries: this.retries,
      maxRetries: lim(s.maxRetries),
    };
  }
}
