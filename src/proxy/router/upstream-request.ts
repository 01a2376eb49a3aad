import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { TimerHandle } from '../clock.js';
import type { HttpStream } from '../http-stream.js';
import { Details, FLAGS_HEADER, LocalReplies, markDownstreamClosed, ResponseFlag, withFlag, type LocalReplySpec, type ResponseFlagCode } from '../response-flags.js';
import { OVERFLOW } from '../upstream/h1-client.js';
import type { UpstreamHost } from '../upstream/host.js';
import { sendLocalReply } from './local-reply.js';
import { TLS_HANDSHAKE_FAILED, upstreamConnector } from '../tls/upstream-tls.js';
import { downstreamResponseHeaders } from './response-headers.js';
import { ReplayBuffer } from './replay-buffer.js';
import { retryHost } from './retry-host.js';
import { retryBackoffMs, type ResetKind, type RetryPolicy } from './retry-policy.js';

// One request to one upstream host, as a dispatch handler (no per-request closures: the client
// calls the methods): requests without a body go through our HTTP/1.1 client (h1-client.ts),
// the others through undici; clusters of protocol http2 through the host's h2c session. The response streams through: each chunk is written downstream
// and the client pauses the upstream socket when the downstream is slower.
//
// The route `timeout` (Envoy's response timeout) runs from start() to the end of the upstream
// response, on the sidecar's injected clock. Only routes with a timeout arm a timer (the hot path
// without one pays a field check in done()). When it fires the upstream request is aborted; before
// the response headers the client gets 504 `upstream request timeout` (UT, `response_timeout`),
// after them its stream is reset (a truncated response, UT).
//
// Retries (retry-policy.ts): one UpstreamRequest per try; the first is the only one a request
// without a retry allocates (plus its `tries` counter). A try is retried only before anything
// went downstream: a retriable response is judged at its headers (dropped, the upstream stream
// reset, as Envoy does), a failure before the headers by its reset reason. A request body is
// kept as it streams (replay-buffer.ts, up to Envoy's 1 MiB buffer limit) and sent again; a body
// that outgrew the limit or had not ended makes the try the last. The next try waits a
// full-jitter backoff on the injected clock, goes to a host not tried yet when there is one
// (previous_hosts, not on consistent-hash clusters, not with retryIgnorePreviousHosts: false),
// and inherits the route timer: the route timeout covers every try, and when it fires (in flight
// or during the backoff) the request ends with 504 UT, never retried. Out of retries, the last
// response or failure goes downstream with `URX` added to its flag (`UO` when the cluster's
// maxRetries refused the retry). Each try's outcome feeds the cluster's outlier detection.

export class UpstreamRequest implements Dispatcher.DispatchHandlers {
  private abortUpstream: ((err?: Error) => void) | null = null;
  private resumeUpstream: (() => void) | null = null;
  private responseStarted = false;
  private finished = false;
  /** Body bytes still expected when the upstream sent a content-length (-1: unknown). */
  private remaining = -1;
  private ended = false;
  /** The route timeout's timer while armed (undefined: none). */
  private timer: TimerHandle = undefined;
  /** Retry state: tries made so far including this one, the policy (null: this try is the last possible). */
  private tries = 1;
  private retry: RetryPolicy | null = null;
  private path = '';
  private headers: IncomingHttpHeaders | null = null;
  /** Hosts tried before this try (allocated on the first retry only). */
  private previousHosts: UpstreamHost[] | null = null;
  private perTryTimer: TimerHandle = undefined;
  /** The backoff before the next try while it runs (this try is over, the request is not). */
  private backoffTimer: TimerHandle = undefined;
  /** The request body as kept for a retry (null: no body, or no retry policy). */
  private replay: ReplayBuffer | null = null;
  /** The cluster's maxRetries refused a retry (the flag is then UO, not URX). */
  private retryOverflowed = false;

  constructor(
    private readonly s: HttpStream,
    private readonly host: UpstreamHost,
  ) {}

  /**
   * `timeoutMs`: the route timeout (0: none). Armed before dispatch: a synchronous failure clears it.
   * `retry`: the route's retry policy; a request body is kept for it (replay-buffer.ts).
   */
  start(path: string, headers: IncomingHttpHeaders, body: Readable | null, timeoutMs: number, retry: RetryPolicy | null = null): void {
    if (timeoutMs > 0) this.timer = this.s.listener.ctx.clock.setTimeout(() => this.s.upstream?.onTimeout(), timeoutMs);
    if (retry !== null) {
      this.retry = retry;
      this.path = path;
      this.headers = headers;
      if (body !== null) {
        const replay = new ReplayBuffer();
        body.pipe(replay);
        body = this.replay = replay;
      }
    }
    this.dispatch(path, headers, body);
  }

  /** A retry may follow this try: there is a policy, and the body (if any) can be sent again. */
  private get retriable(): boolean {
    return this.retry !== null && (this.replay === null || this.replay.replayable);
  }

  private dispatch(path: string, headers: IncomingHttpHeaders, body: Readable | null): void {
    const s = this.s;
    const breakers = s.cluster!.breakers;
    if (!breakers.canSendRequest()) {
      // http2MaxRequests (Envoy max_requests) applies to every protocol.
      breakers.overflow('upstream_rq_overflow');
      this.finished = true;
      this.clearRouteTimer();
      sendLocalReply(s, LocalReplies.overflow, OVERLOADED);
      return;
    }
    breakers.requests++;
    this.host.active++;
    s.upstream = this;
    const perTry = this.retry?.perTryTimeoutMs ?? 0;
    if (perTry > 0) this.perTryTimer = s.listener.ctx.clock.setTimeout(() => this.onPerTryTimeout(), perTry);
    const tls = s.cluster!.def.transportSecurity === undefined ? null : upstreamConnector(s.cluster!, this.host, s.listener.ctx);
    if (s.cluster!.def.protocol === 'http2') this.host.h2(breakers.settings, tls).dispatch(s.method, path, headers, body, this);
    else this.host.h1(tls).dispatch(s.method, path, headers, body, this, breakers);
  }

  /** The client went away before the response ended (flag DC): stop the upstream request. */
  downstreamClosed(): void {
    if (this.backoffTimer !== undefined) {
      this.cancelBackoff();
      this.clearRouteTimer();
      markDownstreamClosed(this.s);
      return;
    }
    if (this.finished) return;
    markDownstreamClosed(this.s);
    this.done();
    this.abortUpstream?.(new Error('downstream closed'));
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.finished) abort(new Error('downstream closed'));
  }

  onHeaders(statusCode: number, headers: Array<Buffer | string>, resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx: node:http already answered the client's Expect
    if (this.finished) return false;
    const s = this.s;
    s.cluster!.outlier?.record(this.host, statusCode);
    let exhausted = false;
    if (this.retriable && this.retry!.retriableResponse(statusCode, headers)) {
      if (this.retryAllowed()) {
        this.retryLater(new Error('retriable response dropped'));
        return false;
      }
      exhausted = true;
    }
    this.responseStarted = true;
    this.resumeUpstream = resume;
    this.clearPerTryTimer();
    s.status = statusCode;
    s.details = Details.proxied;
    const out = downstreamResponseHeaders(s, headers);
    if (exhausted) {
      s.responseFlag = this.gaveUp(s.responseFlag);
      out.push(FLAGS_HEADER, this.retryOverflowed ? ResponseFlag.UpstreamOverflow : ResponseFlag.UpstreamRetryLimitExceeded);
    }
    s.res.writeHead(statusCode, out);
    // An h2 client may get trailers after the body: the response ends in onComplete only.
    if (s.responseContentLength > 0 && s.method !== 'HEAD' && !s.h2) this.remaining = s.responseContentLength;
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.finished) return false;
    const res = this.s.res;
    // The chunk that completes a response of known length goes out with end(): one write
    // for headers, body and end, cheaper than write() then end(). Streaming is unchanged.
    if (this.remaining >= 0 && (this.remaining -= chunk.length) <= 0) {
      this.ended = true;
      res.end(chunk);
      return true;
    }
    if (res.write(chunk)) return true;
    res.once('drain', this.resumeUpstream!);
    return false;
  }

  onComplete(trailers?: Array<Buffer | string> | null): void {
    if (this.finished) return;
    this.done();
    if (this.ended) return;
    // Trailers (gRPC's grpc-status) reach h2 clients; HTTP/1.1 clients get none (as undici's and ours drop them).
    if (this.s.h2 && trailers && trailers.length > 0) addTrailers(this.s, trailers);
    this.s.res.end();
  }

  onError(err: Error): void {
    if (this.finished) return;
    const s = this.s;
    if (!this.responseStarted) {
      const spec = classify(err);
      if (spec === LocalReplies.overflow) {
        // The connection pool's limits refused the request: not the host's fault, never retried (Envoy).
        this.done();
        sendLocalReply(s, spec, OVERLOADED);
        return;
      }
      s.cluster!.outlier?.record(this.host, 503); // Envoy: a connect failure or reset counts as a 503
      if (this.retriable && this.retry!.retriableReset(resetKind(spec))) {
        if (this.retryAllowed()) return this.retryLater(null);
        this.done();
        sendLocalReply(s, { ...spec, flag: this.gaveUp(spec.flag) as ResponseFlagCode }, this.retryOverflowed ? OVERLOADED : undefined);
        return;
      }
      this.done();
      sendLocalReply(s, spec);
      return;
    }
    this.done();
    if (this.ended) return; // the client already has the whole response
    // Reset after the response started: the client sees a truncated response, as with Envoy
    // (a stream reset on HTTP/2, a connection termination on HTTP/1.1).
    const h2 = s.cluster!.def.protocol === 'http2' && isStreamReset(err);
    s.responseFlag = h2 ? ResponseFlag.UpstreamRemoteReset : ResponseFlag.UpstreamConnectionTermination;
    s.details = h2 ? Details.resetAfterResponseStarted : Details.terminatedAfterResponseStarted;
    s.res.destroy();
  }

  /** The route timeout fired before the upstream response completed (called on the current try). */
  onTimeout(): void {
    this.timer = undefined;
    if (this.backoffTimer !== undefined) {
      // Between tries: no retry starts after the route timeout.
      this.cancelBackoff();
    } else if (this.finished) return;
    else {
      this.done();
      if (!this.responseStarted) this.s.cluster!.outlier?.record(this.host, 504);
    }
    const s = this.s;
    s.listener.ctx.stats.inc('upstream.rq_timeout');
    this.abortUpstream?.(new Error('upstream request timeout')); // not yet connected: onConnect aborts
    if (this.ended) return; // the client already has the whole response
    // A delay injected before the router (DI) stays visible next to the timeout (`UT,DI`), as in Envoy's log.
    const flag = withFlag(s.responseFlag, ResponseFlag.UpstreamRequestTimeout) as ResponseFlagCode;
    if (!this.responseStarted) {
      sendLocalReply(s, flag === ResponseFlag.UpstreamRequestTimeout ? LocalReplies.upstreamTimeout : { ...LocalReplies.upstreamTimeout, flag });
      return;
    }
    s.responseFlag = flag;
    s.details = Details.responseTimeout;
    s.res.destroy();
  }

  /** This try's per-try timeout fired before its response headers. */
  private onPerTryTimeout(): void {
    this.perTryTimer = undefined;
    if (this.finished || this.responseStarted) return;
    const s = this.s;
    s.listener.ctx.stats.inc('upstream.rq_per_try_timeout');
    s.cluster!.outlier?.record(this.host, 504);
    const retriable = this.retriable && this.retry!.retriablePerTryTimeout();
    if (retriable && this.retryAllowed()) return this.retryLater(new Error('upstream per try timeout'));
    const exhausted = retriable;
    this.done();
    this.abortUpstream?.(new Error('upstream per try timeout'));
    const flag = exhausted ? this.gaveUp(ResponseFlag.UpstreamRequestTimeout) : ResponseFlag.UpstreamRequestTimeout;
    sendLocalReply(s, { ...LocalReplies.upstreamTimeout, flag: flag as ResponseFlagCode, details: Details.perTryTimeout });
  }

  /** Another try is allowed: retries left, the route timer not fired, nothing sent downstream, and the cluster's maxRetries not reached. */
  private retryAllowed(): boolean {
    if (this.tries > this.retry!.attempts || this.s.res.headersSent || this.s.res.destroyed) return false;
    const breakers = this.s.cluster!.breakers;
    if (breakers.canRetry()) return true;
    breakers.overflow('upstream_rq_retry_overflow');
    this.retryOverflowed = true;
    return false;
  }

  /** The flag of a request whose retries ended: URX when they ran out, UO when maxRetries refused one (Envoy). */
  private gaveUp(flag: string): string {
    return withFlag(flag, this.retryOverflowed ? ResponseFlag.UpstreamOverflow : ResponseFlag.UpstreamRetryLimitExceeded);
  }

  private cancelBackoff(): void {
    this.s.listener.ctx.clock.clearTimeout(this.backoffTimer);
    this.backoffTimer = undefined;
    this.s.cluster!.breakers.retries--;
  }

  /** Ends this try (aborting its upstream stream with `abortWith`, if any) and schedules the next after the backoff. */
  private retryLater(abortWith: Error | null): void {
    this.finished = true;
    this.host.active--;
    const breakers = this.s.cluster!.breakers;
    breakers.requests--;
    breakers.retries++; // outstanding until the backoff ends (Envoy's max_retries)
    this.clearPerTryTimer();
    if (abortWith !== null) this.abortUpstream?.(abortWith);
    this.abortUpstream = null; // the connection is gone or serves another request now
    const ctx = this.s.listener.ctx;
    ctx.stats.inc('upstream.rq_retry');
    this.backoffTimer = ctx.clock.setTimeout(() => this.nextTry(), retryBackoffMs(this.tries, ctx.random, this.retry!.backoffBaseMs));
  }

  private nextTry(): void {
    this.backoffTimer = undefined;
    const s = this.s;
    s.cluster!.breakers.retries--;
    const previous = this.previousHosts ?? [];
    previous.push(this.host);
    const host = this.retry!.avoidPreviousHosts ? retryHost(s, previous) : s.cluster!.chooseForStream(s);
    if (host === null) {
      this.clearRouteTimer();
      sendLocalReply(s, LocalReplies.noHealthyUpstream);
      return;
    }
    s.upstreamHost = host;
    const next = new UpstreamRequest(s, host);
    next.tries = this.tries + 1;
    next.retry = this.retry;
    next.path = this.path;
    next.headers = this.headers;
    next.replay = this.replay;
    next.previousHosts = previous;
    next.timer = this.timer; // the route timeout covers every try
    this.timer = undefined;
    next.dispatch(this.path, this.headers!, this.replay === null ? null : this.replay.replay());
  }

  private clearPerTryTimer(): void {
    if (this.perTryTimer !== undefined) {
      this.s.listener.ctx.clock.clearTimeout(this.perTryTimer);
      this.perTryTimer = undefined;
    }
  }

  private clearRouteTimer(): void {
    if (this.timer !== undefined) {
      this.s.listener.ctx.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private done(): void {
    this.finished = true;
    this.host.active--;
    this.s.cluster!.breakers.requests--;
    this.clearPerTryTimer();
    this.clearRouteTimer();
  }
}

/** Envoy's header on replies a circuit breaker made. */
const OVERLOADED = ['x-envoy-overloaded', 'true'];

function resetKind(spec: LocalReplySpec): ResetKind {
  if (spec === LocalReplies.connectFailure) return 'connect-failure';
  if (spec === LocalReplies.refusedStream) return 'refused-stream';
  return 'reset';
}

/** An HTTP/2 stream reset by the upstream (RST_STREAM), as opposed to its connection going away. */
function isStreamReset(err: Error): boolean {
  return (err as { code?: string }).code === 'ERR_HTTP2_STREAM_ERROR';
}

function addTrailers(s: HttpStream, raw: Array<Buffer | string>): void {
  const t: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) t[String(raw[i]).toLowerCase()] = String(raw[i + 1]);
  s.res.addTrailers(t);
}

const CONNECT_ERRORS = new Set([
  'ECONNREFUSED',
  'ENOENT', // unix socket of an app that is not running
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'EACCES',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  TLS_HANDSHAKE_FAILED, // Envoy: a failed upstream TLS handshake is a connection failure (UF)
]);

/**
 * Which flag an upstream failure before the response started gets (Envoy's reset reasons): an
 * HTTP/2 stream reset is a remote reset (UR; refused stream apart), anything that takes the
 * connection away after it connected is a connection termination (UC), as Envoy's codec
 * client reports a closed HTTP/1.1 connection.
 */
function classify(err: Error): LocalReplySpec {
  const code = (err as { code?: string }).code ?? '';
  if (code === OVERFLOW) return LocalReplies.overflow;
  if (CONNECT_ERRORS.has(code)) return LocalReplies.connectFailure;
  if (isStreamReset(err)) return err.message.includes('REFUSED_STREAM') ? LocalReplies.refusedStream : LocalReplies.remoteReset;
  return LocalReplies.connectionTermination;
}
