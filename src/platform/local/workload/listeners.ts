import { mkdirSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createH2Server, type Http2ServerRequest, type Http2ServerResponse, type Http2Session } from 'node:http2';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { answer, type AnswerContext, type Outcome } from './answer.js';

// The application's listeners, one unix socket per service port:
// - http: HTTP/1.1.
// - http2 / grpc: HTTP/2 with prior knowledge (h2c) or HTTP/1.1 on the same socket, told
//   apart by the client's first bytes; answers carry gRPC-style status (HTTP 200 and a
//   `grpc-status` header), as a gRPC server's do.
// - tcp: newline-delimited JSON, one answer line per request line.

export interface Listener {
  close(): Promise<void>;
}

type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;

const HTTP_STATUS: Record<Outcome, number> = { ok: 200, error: 500, dependency: 502 };
/** gRPC codes: INTERNAL for the instance's own failure, UNAVAILABLE when a dependency failed. */
const GRPC_STATUS: Record<Outcome, string> = { ok: '0', error: '13', dependency: '14' };

function handler(ctx: AnswerContext, grpcStyle: boolean) {
  return (req: Req, res: Res): void => {
    void serveHttp(ctx, grpcStyle, req, res).catch((e: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`internal error: ${(e as Error).message}\n`);
      } else res.destroy?.();
    });
  };
}

async function serveHttp(ctx: AnswerContext, grpcStyle: boolean, req: Req, res: Res): Promise<void> {
  req.resume(); // the request body only stands for a payload size
  if (!req.readableEnded) await new Promise<void>((resolve) => req.once('end', resolve).once('error', () => resolve()));
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"ok"}');
    return;
  }
  const a = await answer(ctx, req.headers);
  const text = JSON.stringify(a.body);
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) };
  let status = a.status ?? HTTP_STATUS[a.outcome];
  if (grpcStyle) {
    status = 200;
    headers['grpc-status'] = GRPC_STATUS[a.outcome];
    if (a.body.error) headers['grpc-message'] = encodeURIComponent(a.body.error);
  }
  res.writeHead(status, headers);
  res.end(text);
}

/** Listen on a unix socket, replacing a stale socket file left by a crashed run. */
function listenOn(server: Server, socketPath: string): Promise<void> {
  mkdirSync(dirname(socketPath), { recursive: true, mode: 0o700 });
  rmSync(socketPath, { force: true });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export async function listenHttp(socketPath: string, ctx: AnswerContext): Promise<Listener> {
  const server = createHttpServer({ keepAlive: true }, handler(ctx, false));
  await listenOn(server, socketPath);
  return {
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export async function listenHttp2(socketPath: string, ctx: AnswerContext): Promise<Listener> {
  const serve = handler(ctx, true);
  const h1 = createHttpServer({ keepAlive: true }, serve);
  const h2 = createH2Server({}, serve);
  const sessions = new Set<Http2Session>();
  h2.on('session', (s: Http2Session) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  const sockets = new Set<Socket>();
  const front = createNetServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // Until a server owns the socket, an error on it (a peer reset) must not crash the process.
    socket.on('error', () => socket.destroy());
    sniff(socket, (isH2) => (isH2 ? h2 : h1).emit('connection', socket));
  });
  await listenOn(front, socketPath);
  return {
    close: () =>
      new Promise((resolve) => {
        front.close(() => resolve());
        for (const s of sessions) s.destroy();
        h1.closeAllConnections();
        for (const s of sockets) s.destroy();
      }),
  };
}

/** The HTTP/2 connection preface starts `PRI *`; no HTTP/1.1 request does. */
function sniff(socket: Socket, route: (isH2: boolean) => void): void {
  let seen = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    seen = Buffer.concat([seen, chunk]);
    if (seen.length < 3) return;
    socket.off('data', onData);
    socket.pause();
    socket.unshift(seen);
    const isH2 = seen.subarray(0, 3).toString('latin1') === 'PRI';
    route(isH2);
    // The HTTP/2 session reads the buffered bytes itself and then the handle directly; the
    // HTTP/1.1 parser reads through the stream, which must flow again.
    if (!isH2) socket.resume();
  };
  socket.on('data', onData);
}

export async function listenTcp(socketPath: string, ctx: AnswerContext): Promise<Listener> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.setEncoding('utf8');
    let buf = '';
    let queue = Promise.resolve();
    socket.on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        buf = buf.slice(nl + 1);
        // Requests on one connection are answered in order, as a Redis-like server does.
        queue = queue.then(async () => {
          const a = await answer(ctx, {});
          // A TCP server has no status to send: failing means dropping the connection.
          if (a.outcome !== 'ok') socket.destroy();
          else if (!socket.destroyed) socket.write(`${JSON.stringify(a.body)}\n`);
        });
      }
    });
    socket.on('error', () => socket.destroy());
  });
  await listenOn(server, socketPath);
  return {
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
