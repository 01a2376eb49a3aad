import { durationMs } from '../../util/duration.js';

// DestinationRule `trafficPolicy.connectionPool` as istiod translates it into Envoy's cluster
// circuit breakers and connection options. Istio leaves every limit effectively unlimited
// (2^32-1) unless set, and treats 0 as "not set" for the limits.

export interface ConnectionPoolSettings {
  /** tcp.maxConnections: connections to all hosts of the cluster (Envoy max_connections). */
  maxConnections: number;
  /** tcp.connectTimeout (Istio: 10 s). */
  connectTimeoutMs: number;
  /** tcp.idleTimeout: a TCP proxy connection idle this long is closed (Istio: 1 h). */
  tcpIdleTimeoutMs: number;
  /** http.http1MaxPendingRequests: requests waiting for a connection (Envoy max_pending_requests). */
  maxPendingRequests: number;
  /** http.http2MaxRequests: requests in flight to the cluster, any protocol (Envoy max_requests). */
  maxRequests: number;
  /** http.maxRequestsPerConnection: 0 = unlimited, 1 = no keep-alive. */
  maxRequestsPerConnection: number;
  /** http.maxRetries: retries outstanding (waiting to start) across the cluster (Envoy max_retries). */
  maxRetries: number;
  /** http.idleTimeout: an idle upstream connection is closed after this (Istio: 1 h). */
  idleTimeoutMs: number;
}

const UNLIMITED = Number.POSITIVE_INFINITY;
const HOUR_MS = 3_600_000;

export const DEFAULT_POOL_SETTINGS: Readonly<ConnectionPoolSettings> = Object.freeze({
  maxConnections: UNLIMITED,
  connectTimeoutMs: 10_000,
  tcpIdleTimeoutMs: HOUR_MS,
  maxPendingRequests: UNLIMITED,
  maxRequests: UNLIMITED,
  maxRequestsPerConnection: 0,
  maxRetries: UNLIMITED,
  idleTimeoutMs: HOUR_MS,
});

/** Settings from the raw Istio JSON (already validated by the control plane). */
export function connectionPoolSettings(raw: unknown): Readonly<ConnectionPoolSettings> {
  if (raw === undefined || raw === null || typeof raw !== 'object') return DEFAULT_POOL_SETTINGS;
  const tcp = ((raw as { tcp?: unknown }).tcp ?? {}) as Record<string, unknown>;
  const http = ((raw as { http?: unknown }).http ?? {}) as Record<string, unknown>;
  return {
    maxConnections: limit(tcp.maxConnections),
    connectTimeoutMs: positiveDuration(tcp.connectTimeout, DEFAULT_POOL_SETTINGS.connectTimeoutMs),
    tcpIdleTimeoutMs: positiveDuration(tcp.idleTimeout, HOUR_MS),
    maxPendingRequests: limit(http.http1MaxPendingRequests),
    maxRequests: limit(http.http2MaxRequests),
    maxRequestsPerConnection: count(http.maxRequestsPerConnection),
    maxRetries: limit(http.maxRetries),
    idleTimeoutMs: positiveDuration(http.idleTimeout, HOUR_MS),
  };
}

/** A limit: positive numbers count, anything else (absent, 0) is unlimited. */
function limit(v: unknown): number {
  const n = count(v);
  return n > 0 ? n : UNLIMITED;
}

function count(v: unknown): number {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

function positiveDuration(v: unknown, fallback: number): number {
  const ms = durationMs(v);
  return ms !== undefined && ms > 0 ? ms : fallback;
}
