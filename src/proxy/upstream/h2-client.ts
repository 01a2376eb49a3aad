import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders as H2Headers, type OutgoingHttpHeaders } from 'node:http2';
import type { IncomingHttpHeaders } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import type { UpstreamConnector } from '../tls/upstream-tls.js';
import type { Readable } from 'node:stream';
import type { Endpoint } from '../../api/snapshot.js';

// h2c to one upstream endpoint (clusters of protocol `http2`: gRPC and HTTP/2 ports): one
// node:http2 session, multiplexing every request, opened on first use and again after it
// closes (GOAWAY, error, idle). Requests report to the same dispatch handler interface as
// undici's, so the router's UpstreamRequest does not care which protocol runs underneath;
// trailers (gRPC's grpc-status) arrive in onComplete.

const { HTTP2_HEADER_STATUS, NGHTTP2_CANCEL } = constants;

/** undici's dispatch handler methods, as this client calls them (header lists are strings here). */
export interface H2Handler {
  onConnect(abort: (err?: Error) => void): void;
  onHeaders(statusCode: number, headers: Array<Buffer | string>, resume: () => void): boolean;
  onData(chunk: Buffer): boolean;
  onComplete(trailers: Array<Buffer | string>): void;
  onError(err: Error): void;
}

export class H2Client {
  private session: ClientHttp2Session | null = null;
  private closed = false;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly connectTimeoutMs: number,
    private readonly idleTimeoutMs: number,
    /** Plaintext (h2c) by default; mutual TLS for ISTIO_MUTUAL clusters (src/proxy/tls/upstream-tls.ts). */
    private readonly connector: UpstreamConnector | null = null,
  ) {}

  dispatch(method: string, path: string, headers: IncomingHttpHeaders, body: Readable | null, handler: H2Handler): void {
    if (this.closed) {
      handler.onError(Object.assign(new Error('host closed'), { code: 'UND_ERR_CLOSED' }));
      return;
    }
    let stream: ClientHttp2Stream;
    try {
      stream = this.currentSession().request(toH2Headers(method, path, headers), { endStream: body === null });
    } catch (err) {
      handler.onError(err as Error);
      return;
    }
    new H2Exchange(stream, body, handler);
  }

  private currentSession(): ClientHttp2Session {
    const existing = this.session;
    if (existing && !existing.closed && !existing.destroyed) {
      // mTLS: a session made with a certificate since renewed takes no new streams (GOAWAY; those in flight finish).
      if (this.connector === null || !this.connector.stale(existing.socket as Socket)) return existing;
      existing.close();
    }
    const e = this.endpoint;
    const connector = this.connector;
    const session = connector !== null
      ? connect('http://localhost', { createConnection: () => connector.open(e) })
      : e.socketPath
      ? connect('http://localhost', { createConnection: () => netConnect({ path: e.socketPath! }) })
      : connect(`http://${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port}`, { createConnection: () => netConnect({ host: e.address, port: e.port, noDelay: true }) });
    this.session = session;
    const forget = () => {
      if (this.session === session) this.session = null;
    };
    // Errors reach the streams too (they report them); the session is only forgotten.
    session.on('error', forget);
    session.on('goaway', forget);
    session.on('close', forget);
    // An idle session (no stream in flight) closes; the next request opens another.
    session.setTimeout(this.idleTimeoutMs, () => session.close());
    const timer = setTimeout(() => {
      if (!session.connecting) return;
      session.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' }));
    }, this.connectTimeoutMs);
    timer.unref();
    session.once('connect', () => clearTimeout(timer));
    session.once('close', () => clearTimeout(timer));
    session.unref(); // an idle upstream connection does not keep the process alive
    return session;
  }

  /** Lets streams in flight finish, then closes (GOAWAY). */
  close(): Promise<void> {
    this.closed = true;
    const s = this.session;
    this.session = null;
    if (!s || s.destroyed) return Promise.resolve();
    return new Promise((resolve) => s.close(() => resolve()));
  }

  destroy(): Promise<void> {
    this.closed = true;
    const s = this.session;
    this.session = null;
    s?.destroy();
    return Promise.resolve();
  }
}

/** HTTP/1.1-style headers (Host, no pseudo-headers) as an h2 request's header block. */
function toH2Headers(method: string, path: string, headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ':method': method, ':path': path, ':scheme': 'http', ':authority': headers.host ?? 'localhost' };
  for (const name in headers) {
    if (name === 'host' || name.charCodeAt(0) === 58 /* ':' */) continue;
    out[name] = headers[name];
  }
  return out;
}

/** h2 header objects as the flat `[name, value, ...]` lists the dispatch handlers take. */
function flatten(h: H2Headers): string[] {
  const out: string[] = [];
  for (const name in h) {
    if (name.charCodeAt(0) === 58 /* ':' */) continue;
    const v = h[name];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) out.push(name, x);
    else out.push(name, String(v));
  }
  return out;
}

/** One request/response on a session, reported to the handler. */
class H2Exchange {
  private done = false;
  private trailers: string[] | null = null;

  constructor(
    private readonly stream: ClientHttp2Stream,
    body: Readable | null,
    private readonly handler: H2Handler,
  ) {
    handler.onConnect((err?: Error) => this.abort(err));
    stream.on('response', (h) => this.onResponse(h));
    stream.on('trailers', (t) => (this.trailers = flatten(t)));
    stream.on('data', (chunk: Buffer) => {
      if (this.done) return;
      if (handler.onData(chunk) === false) stream.pause();
    });
    stream.on('end', () => this.finish());
    stream.on('error', (err: Error) => this.fail(err));
    stream.on('close', () => {
      // Closed without end or error: the upstream reset the stream.
      if (this.done) return;
      // An RST_STREAM is a stream reset (UR; REFUSED_STREAM is code 7), as node names it when it errors.
      const rst = stream.rstCode ?? 0;
      this.fail(rst > 0 ? Object.assign(new Error(`stream reset (code ${rst}${rst === constants.NGHTTP2_REFUSED_STREAM ? ' NGHTTP2_REFUSED_STREAM' : ''})`), { code: 'ERR_HTTP2_STREAM_ERROR' }) : Object.assign(new Error('stream closed'), { code: 'ECONNRESET' }));
    });
    if (body) {
      body.pipe(stream);
      body.on('error', () => this.abort());
    }
  }

  private onResponse(h: H2Headers): void {
    if (this.done) return;
    const status = Number(h[HTTP2_HEADER_STATUS]);
    if (this.handler.onHeaders(status, flatten(h), () => this.stream.resume()) === false) this.stream.pause();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.handler.onComplete(this.trailers ?? []);
  }

  private fail(err: Error): void {
    if (this.done) return;
    this.done = true;
    // A stream cancelled because its session failed carries the socket error as its cause (ECONNREFUSED: UF).
    const code = (err.cause as { code?: string } | undefined)?.code;
    this.handler.onError(code ? Object.assign(new Error(err.message), { code }) : err);
  }

  private abort(err?: Error): void {
    if (this.done) return;
    this.done = true;
    void err;
    if (!this.stream.destroyed) this.stream.close(NGHTTP2_CANCEL);
  }
}
