import { durationMs } from '../../util/duration.js';
import type { RandomSource } from '../clock.js';

// Istio's VirtualService `retries` as the router runs it (Envoy's RetryPolicy as istiod builds
// it in networking/core/route/retry): compiled once per route per snapshot, then only read.
// - no `retries` block: Istio's default (2 retries on connect-failure, refused-stream,
//   unavailable, cancelled, retriable-status-codes with 503);
// - `attempts` absent or <= 0: no retries at all (istiod sends no policy);
// - a block overrides only what it sets; bare numbers in `retryOn` are retriable status codes;
// - `backoff` is the base interval of the jittered backoff (Envoy caps it at 10 x base);
// - `retryIgnorePreviousHosts` (default true) keeps Envoy's previous_hosts predicate.

/** Envoy's default backoff base interval (istiod sets none unless `retries.backoff`). */
export const RETRY_BASE_MS = 25;

const ON_5XX = 1;
const ON_GATEWAY_ERROR = 2;
const ON_RESET = 4;
const ON_CONNECT_FAILURE = 8;
const ON_RETRIABLE_4XX = 16;
const ON_REFUSED_STREAM = 32;
const ON_STATUS_CODES = 64;

/** gRPC status codes by Envoy's retryOn names (read from `grpc-status` in the response headers). */
const GRPC_CODES: Record<string, number> = { cancelled: 1, 'deadline-exceeded': 4, 'resource-exhausted': 8, internal: 13, unavailable: 14 };

const CONDITIONS: Record<string, number> = {
  '5xx': ON_5XX,
  'gateway-error': ON_GATEWAY_ERROR,
  reset: ON_RESET,
  'connect-failure': ON_CONNECT_FAILURE,
  'retriable-4xx': ON_RETRIABLE_4XX,
  'refused-stream': ON_REFUSED_STREAM,
  'retriable-status-codes': ON_STATUS_CODES,
};

/** How an attempt failed before any response header: Envoy's stream reset reasons. */
export type ResetKind = 'connect-failure' | 'refused-stream' | 'reset';

export class RetryPolicy {
  constructor(
    /** Retries after the first try (>= 1). */
    readonly attempts: number,
    /** Per-try timeout in ms (0: none). */
    readonly perTryTimeoutMs: number,
    private readonly on: number,
    private readonly statusCodes: readonly number[],
    /** Bit set of gRPC status codes (bit n = code n) that are retried. */
    private readonly grpc: number,
    /** Base interval of the backoff in ms (Istio `retries.backoff`; Envoy's default 25). */
    readonly backoffBaseMs: number = RETRY_BASE_MS,
    /** A retry avoids the hosts already tried (Envoy's previous_hosts predicate; Istio `retryIgnorePreviousHosts`). */
    readonly avoidPreviousHosts: boolean = true,
  ) {}

  /** Whether a response with these headers is retried (before anything went downstream). */
  retriableResponse(status: number, raw: Array<Buffer | string>): boolean {
    const on = this.on;
    if (status >= 500) {
      if (on & ON_5XX) return true;
      if (on & ON_GATEWAY_ERROR && (status === 502 || status === 503 || status === 504)) return true;
    } else if (status === 409 && on & ON_RETRIABLE_4XX) return true;
    if (status >= 400 && on & ON_STATUS_CODES && this.statusCodes.includes(status)) return true;
    // gRPC conditions read `grpc-status` in the response headers, whatever the request (Envoy's
    // RetryStateImpl::wouldRetryFromHeaders): a trailers-only gRPC answer carries it there.
    if (this.grpc !== 0) {
      const code = grpcStatusOf(raw);
      if (code >= 0 && code < 31 && this.grpc & (1 << code)) return true;
    }
    return false;
  }

  /** Whether a failure before the response headers is retried. */
  retriableReset(kind: ResetKind): boolean {
    const on = this.on;
    // Envoy counts any upstream reset as a 5xx (it will be one) and as a gateway error.
    if (on & (ON_5XX | ON_GATEWAY_ERROR | ON_RESET)) return true;
    if (kind === 'connect-failure') return (on & ON_CONNECT_FAILURE) !== 0;
    if (kind === 'refused-stream') return (on & ON_REFUSED_STREAM) !== 0;
    return false;
  }

  /** A per-try timeout is a local reset of the try: Envoy retries it on 5xx, gateway-error and reset. */
  retriablePerTryTimeout(): boolean {
    return (this.on & (ON_5XX | ON_GATEWAY_ERROR | ON_RESET)) !== 0;
  }
}

const DEFAULT_RETRY_ON = 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';

/** Istio's default policy, shared by every route without a `retries` block. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = build(2, 0, DEFAULT_RETRY_ON, [503]);

/** The policy a route's `retries` (as written in the VirtualService) asks for; null: no retries. */
export function compileRetryPolicy(retries: unknown): RetryPolicy | null {
  if (retries === undefined || retries === null) return DEFAULT_RETRY_POLICY;
  if (typeof retries !== 'object') return DEFAULT_RETRY_POLICY;
  const r = retries as { attempts?: unknown; perTryTimeout?: unknown; retryOn?: unknown; backoff?: unknown; retryIgnorePreviousHosts?: unknown };
  const attempts = typeof r.attempts === 'number' && Number.isFinite(r.attempts) ? Math.floor(r.attempts) : 0;
  if (attempts <= 0) return null; // istiod: explicitly disabled
  const perTry = positiveMs(r.perTryTimeout);
  const base = positiveMs(r.backoff) || RETRY_BASE_MS;
  const avoidPrevious = r.retryIgnorePreviousHosts !== false;
  if (typeof r.retryOn === 'string' && r.retryOn.trim() !== '') return build(attempts, perTry, r.retryOn, [], base, avoidPrevious);
  return build(attempts, perTry, DEFAULT_RETRY_ON, [503], base, avoidPrevious);
}

function build(attempts: number, perTryTimeoutMs: number, retryOn: string, codes: number[], backoffBaseMs = RETRY_BASE_MS, avoidPreviousHosts = true): RetryPolicy {
  let on = 0;
  let grpc = 0;
  const statusCodes = [...codes];
  for (const raw of retryOn.split(',')) {
    const c = raw.trim();
    if (c === '') continue;
    if (/^\d+$/.test(c)) {
      // Bare numbers are retriable status codes (istiod adds retriable-status-codes for them).
      statusCodes.push(Number(c));
      on |= ON_STATUS_CODES;
    } else if (CONDITIONS[c] !== undefined) on |= CONDITIONS[c];
    else if (GRPC_CODES[c] !== undefined) grpc |= 1 << GRPC_CODES[c];
    // Unknown names are ignored, as Envoy does.
  }
  return new RetryPolicy(attempts, perTryTimeoutMs, on, statusCodes, grpc, backoffBaseMs, avoidPreviousHosts);
}

/** A duration in ms (Istio's syntax, or a number of ms); 0 when absent or not positive. */
function positiveMs(v: unknown): number {
  const ms = typeof v === 'number' ? v : durationMs(v);
  return ms !== undefined && Number.isFinite(ms) && ms > 0 ? ms : 0;
}

function grpcStatusOf(raw: Array<Buffer | string>): number {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const n = raw[i];
    if (n.length === 11 && String(n).toLowerCase() === 'grpc-status') return Number(String(raw[i + 1]));
  }
  return -1;
}

/**
 * Envoy's JitteredExponentialBackOffStrategy (since envoy#10417; its docs still show the older
 * (2^n - 1) x base): retry n (1-based) waits uniform in [0, base x 2^(n-1)), the window capped at
 * 10 x base (Envoy's default max_interval): 25, 50, 100, 200, 250 ms with Istio's 25 ms base.
 */
export function retryBackoffMs(retry: number, random: RandomSource, baseMs: number = RETRY_BASE_MS): number {
  const ceiling = Math.min(10 * baseMs, baseMs * 2 ** Math.min(retry - 1, 30));
  return Math.floor(random() * ceiling);
}
