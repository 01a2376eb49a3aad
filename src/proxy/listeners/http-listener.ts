import { markDownstreamClosed } from '../response-flags.js';
import { createServer, type IncomingMessage, type Server as H1Server, type ServerResponse } from 'node:http';
import type { Http2Server, ServerHttp2Session } from 'node:http2';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import type { Listener } from '../../api/snapshot.js';
import { continueFilterChain, runCompleteFilters, type FilterChain } from '../filters/filter-chain.js';
import { HttpStream } from '../http-stream.js';
import type { ProxyContext } from '../proxy-context.js';
import type { ActiveListener } from './active-listener.js';
import { createH2Server, isH2Preface } from './h2-downstream.js';
import type { ListenerRuntime } from './listener-runtime.js';
import { closeServer, listen } from './server-lifecycle.js';
import { acceptMutualTls, looksLikeTls } from '../tls/inbound-tls.js';

// An HTTP listener: HTTP/1.1 (node:http, keep-alive), and, when the listener accepts HTTP/2,
// h2c with prior knowledge (node:http2, as gRPC clients speak it) on the same port: then the
// first bytes of each connection decide, the HTTP/2 preface going to the h2 server and anything
// else to the HTTP/1.1 server. Sniffing is only done where asked for: a socket whose first bytes
// were read in JavaScript loses node's native HTTP parsing path, which costs about 15% CPU per
// request. Each request becomes an HttpStream on the snapshot in force when it arrived, and
// runs the listener's filter chain.

const STREAM = Symbol('meshmedic.stream');
type TaggedResponse = ServerResponse & { [STREAM]?: HttpStream };

/** A connection that sends nothing is dropped after this long (node:http's headersTimeout, which only starts once the socket is handed over). */
const FIRST_BYTES_TIMEOUT_MS = 60_000;

export class HttpListener implements ActiveListener, ListenerRuntime {
  /** The listening socket: `h1` itself, or (accepting HTTP/2) a plain server that hands connections over once their first bytes are in. */
  readonly server: Server;
  readonly h1: H1Server;
  readonly h2: Http2Server;
  /** Every open connection, cut when a drain runs out of time. */
  private readonly sockets = new Set<Socket>();
  /** Open h2 sessions: a drain sends each a GOAWAY (node:http2's server.close does not). */
  private readonly sessions = new Set<ServerHttp2Session>();
  /** Connections served in plaintext and over mutual TLS, so a PeerAuthentication change can drain the ones it no longer accepts. */
  private readonly plaintext = new Set<Socket>();
  private readonly mutualTls = new Set<Socket>();
  private readonly h2Sockets = new WeakSet<Socket>();

  constructor(
    public def: Listener,
    public chain: FilterChain,
    readonly ctx: ProxyContext,
  ) {
    // No request timeout (Istio has none by default); idle keep-alive connections stay a minute.
    this.h1 = createServer({ requestTimeout: 0, keepAliveTimeout: 60_000, headersTimeout: 60_000 }, this.onRequest);
    this.h2 = createH2Server(this);
    this.h2.on('session', (session: ServerHttp2Session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
    });
    if (sniffs(def)) {
      this.server = createNetServer(this.onConnection);
    } else {
      this.server = this.h1;
      this.h1.on('connection', (socket: Socket) => {
        this.sockets.add(socket);
        socket.once('close', () => this.sockets.delete(socket));
      });
    }
  }

  async listen(): Promise<void> {
    await listen(this.server, this.def.address, this.def.port);
    // When the HTTP/1.1 server does not listen itself, 'listening' is what starts its connection
    // tracking (headersTimeout, closeIdleConnections, closeAllConnections).
    if (this.server !== this.h1) this.h1.emit('listening');
  }

  close(graceMs: number): Promise<void> {
    // Stops the timeout checks and closes idle keep-alive connections; the error (not listening) is expected.
    if (this.server !== this.h1) this.h1.close(() => undefined);
    this.h2.close();
    for (const session of this.sessions) session.close(); // GOAWAY: streams in flight finish, no new ones
    return closeServer(this.server, graceMs, this.sockets);
  }

  /**
   * The listener's mTLS mode changed: connections the new mode refuses (plaintext under STRICT,
   * mutual TLS under DISABLE) close: idle ones now, busy ones after their response (h2: GOAWAY).
   */
  drainRefusedConnections(): void {
    const mode = this.def.mtls?.mode;
    const refused = mode === 'STRICT' ? this.plaintext : mode === undefined ? this.mutualTls : null;
    if (!refused) return;
    let h2 = false;
    for (const socket of refused) {
      if (this.h2Sockets.has(socket)) {
        h2 = true;
        continue;
      }
      const res = (socket as unknown as { _httpMessage?: ServerResponse | null })._httpMessage;
      if (res) res.shouldKeepAlive = false; // node:http closes the connection after this response
      else socket.destroy();
    }
    // An h2 session's socket is hidden behind node:http2's proxy: GOAWAY to all (clients reconnect, streams in flight finish).
    if (h2) for (const session of this.sessions) session.close();
  }

  private readonly onConnection = (socket: Socket): void => {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.setTimeout(FIRST_BYTES_TIMEOUT_MS, onSniffTimeout);
    socket.on('error', onSniffError);
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      socket.setTimeout(0, onSniffTimeout);
      socket.off('timeout', onSniffTimeout);
      socket.off('error', onSniffError);
      socket.setNoDelay(true);
      // Mutual TLS (PeerAuthentication): a TLS record is a mesh peer, anything else plaintext.
      const mtls = this.def.mtls;
      if (mtls) {
        if (looksLikeTls(first)) {
          const material = this.ctx.tls?.current;
          if (!material) {
            this.ctx.stats.inc('listener.mtls.no_certificate');
            socket.destroy();
            return;
          }
          acceptMutualTls(socket, material, (secure) => this.serve(secure, null, true), () => this.ctx.stats.inc('listener.mtls.handshake_failed'));
          return;
        }
        if (mtls.mode === 'STRICT') {
          this.ctx.stats.inc('listener.mtls.plaintext_refused'); // Envoy: no filter chain matches, the connection closes
          socket.destroy();
          return;
        }
      }
      this.serve(socket, first, false);
    });
  };

  /**
   * Hands a connection to the HTTP/1.1 or h2 server: `first` are its first (unshifted) bytes, null
   * for a decrypted TLS socket, which goes to HTTP/1.1 (the control plane gives HTTP/2 ports no
   * mTLS yet: node:http2 does not serve a TLS socket made by hand); `secure`: over mutual TLS.
   */
  private serve(socket: Socket, first: Buffer | null, secure: boolean): void {
    const kind = secure ? this.mutualTls : this.plaintext;
    kind.add(socket);
    socket.once('close', () => kind.delete(socket));
    const h2 = first !== null && this.def.acceptsHttp2 && isH2Preface(first);
    if (h2) this.h2Sockets.add(socket);
    (h2 ? this.h2 : this.h1).emit('connection', socket);
    // The server has attached its readers: let the unshifted bytes flow to them.
    process.nextTick(resumeSocket, socket);
  }

  private readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const s = new HttpStream(req, res, this, this.ctx.current!, this.ctx.clock.now());
    startStream(s);
  };
}

/** Listeners that read a connection's first bytes before choosing a server: h2c, or mutual TLS. */
export function sniffs(def: Listener): boolean {
  return !!def.acceptsHttp2 || !!def.mtls;
}

/** Runs a new stream (HTTP/1.1 or h2) through the filter chain and reports it when its response closes. */
export function startStream(s: HttpStream): void {
  (s.res as TaggedResponse)[STREAM] = s;
  s.res.once('close', onResponseClose);
  continueFilterChain(s);
}

function onSniffTimeout(this: Socket): void {
  this.destroy();
}

function onSniffError(this: Socket): void {
  this.destroy();
}

function resumeSocket(socket: Socket): void {
  socket.resume();
}

/** The response is over (sent, or the client went away): stop upstream work, then report the stream. */
function onResponseClose(this: TaggedResponse): void {
  const s = this[STREAM];
  if (!s || s.completed) return;
  this[STREAM] = undefined;
  if (!this.writableFinished) {
    if (s.upstream !== null) s.upstream.downstreamClosed();
    else markDownstreamClosed(s); // before any upstream request (a fault delay, a filter waiting)
  }
  s.completed = true;
  if (s.status === 0 && this.headersSent) s.status = this.statusCode;
  runCompleteFilters(s);
  s.listener.ctx.stats.requestDone(s.responseFlag);
}
