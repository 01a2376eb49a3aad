import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { TimerHandle } from '../clock.js';
import type { HttpStream } from '../http-stream.js';
import { Details, LocalReplies, ResponseFlag, type LocalReplySpec, type ResponseFlagCode } from '../response-flags.js';
import type { UpstreamHost } from '../upstream/host.js';
import { sendLocalReply } from './local-reply.js';
import { downstreamResponseHeaders } from './response-headers.js';

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

  constructor(
    private readonly s: HttpStream,
    private readonly host: UpstreamHost,
  ) {}

  /** `timeoutMs`: the route timeout (0: none). Armed before dispatch: a synchronous failure clears it. */
  start(path: string, headers: IncomingHttpHeaders, body: Readable | null, timeoutMs: number): void {
    this.host.active++;
    this.s.upstream = this;
    if (timeoutMs > 0) this.timer = this.s.listener.ctx.clock.setTimeout(() => this.onTimeout(), timeoutMs);
    if (this.s.cluster!.def.protocol === 'http2') this.host.h2().dispatch(this.s.method, path, headers, body, this);
    else if (body === null) this.host.h1().dispatch(this.s.method, path, headers, this);
    else this.host.dispatcher().dispatch({ path, method: this.s.method as Dispatcher.HttpMethod, headers, body }, this);
  }

  /** The client went away before the response ended (flag DC): stop the upstream request. */
  downstreamClosed(): void {
    if (this.finished) return;
    if (this.s.responseFlag === ResponseFlag.None) {
      this.s.responseFlag = ResponseFlag.DownstreamConnectionTermination;
      this.s.details = Details.downstreamDisconnect;
    }
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
    this.responseStarted = true;
    this.resumeUpstream = resume;
    const s = this.s;
    s.status = statusCode;
    s.details = Details.proxied;
    s.res.writeHead(statusCode, downstreamResponseHeaders(s, headers));
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
    this.done();
    if (this.ended) return; // the client already has the whole response
    const s = this.s;
    if (!this.responseStarted) {
      sendLocalReply(s, classify(err));
      return;
    }
    // Reset after the response started: the client sees a truncated response, as with Envoy.
    s.responseFlag = ResponseFlag.UpstreamRemoteReset;
    s.details = Details.resetAfterResponseStarted;
    s.res.destroy();
  }

  /** The route timeout fired before the upstream response completed. */
  private onTimeout(): void {
    this.timer = undefined;
    if (this.finished) return;
    this.done();
    const s = this.s;
    s.listener.ctx.stats.inc('upstream.rq_timeout');
    this.abortUpstream?.(new Error('upstream request timeout')); // not yet connected: onConnect aborts
    if (this.ended) return; // the client already has the whole response
    // A delay injected before the router (DI) stays visible next to the timeout, as in Envoy's log.
    const flag = (s.responseFlag === ResponseFlag.DelayInjected ? `${ResponseFlag.DelayInjected},${ResponseFlag.UpstreamRequestTimeout}` : ResponseFlag.UpstreamRequestTimeout) as ResponseFlagCode;
    if (!this.responseStarted) {
      sendLocalReply(s, flag === ResponseFlag.UpstreamRequestTimeout ? LocalReplies.upstreamTimeout : { ...LocalReplies.upstreamTimeout, flag });
      return;
    }
    s.responseFlag = flag;
    s.details = Details.responseTimeout;
    s.res.destroy();
  }

  private done(): void {
    this.finished = true;
    this.host.active--;
    if (this.timer !== undefined) {
      this.s.listener.ctx.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
  }
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
]);

/** Which flag an upstream failure before the response started gets (Envoy's reset reasons). */
function classify(err: Error): LocalReplySpec {
  const code = (err as { code?: string }).code ?? '';
  if (CONNECT_ERRORS.has(code)) return LocalReplies.connectFailure;
  if (code === 'ECONNRESET' || code === 'EPIPE') return LocalReplies.remoteReset;
  return LocalReplies.connectionTermination;
}
