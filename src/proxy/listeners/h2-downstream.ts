import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Http2Server, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { HttpStream } from '../http-stream.js';
import type { ListenerRuntime } from './listener-runtime.js';
import { startStream } from './http-listener.js';

// h2c downstream (prior knowledge): the listener hands connections that open with the HTTP/2
// preface to a node:http2 server. Each h2 stream is adapted to what HttpStream and the router
// read of an HTTP/1.1 request, so routing, header operations, local replies and flags are the
// same code: `:authority` becomes Host (HttpStream routes on it), pseudo-headers are dropped
// (they must not travel as headers to an HTTP/1.1 upstream), and the node:http2 compatibility
// request/response stand in for node:http's (same members: method, url, headers, socket,
// readable body; writeHead with flat header arrays, write/end/drain, headersSent,
// writableFinished, statusCode, close, destroy).

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * Whether a connection's first bytes are the HTTP/2 preface. A first read shorter than the
 * preface counts when it is a prefix of it: no HTTP/1.1 request starts with `PRI `, and nghttp2
 * checks the rest.
 */
export function isH2Preface(first: Buffer): boolean {
  const n = first.length < PREFACE.length ? first.length : PREFACE.length;
  return n > 0 && first.compare(PREFACE, 0, n, 0, n) === 0;
}

/**
 * Marks a request that has a body without content-length (gRPC sends none): `hasRequestBody`
 * reads `transfer-encoding`, which h2 requests never carry, and `prepareUpstreamHeaders`
 * removes it as hop-by-hop, so the marker never leaves the proxy.
 */
const BODY_MARKER = 'chunked';

export function createH2Server(listener: ListenerRuntime): Http2Server {
  const server = createServer({}, (req: Http2ServerRequest, res: Http2ServerResponse) => {
    const h = req.headers;
    const authority = h[':authority'];
    if (h.host === undefined && authority !== undefined) h.host = authority;
    if (!req.stream.endAfterHeaders && h['content-length'] === undefined) h['transfer-encoding'] = BODY_MARKER;
    // HttpStream reads method and url (`:method`, `:path`) once, here; the pseudo-headers go after.
    const s = new HttpStream(req as unknown as IncomingMessage, res as unknown as ServerResponse, listener, listener.ctx.current!, listener.ctx.clock.now());
    delete h[':authority'];
    delete h[':method'];
    delete h[':path'];
    delete h[':scheme'];
    s.h2 = true;
    startStream(s);
  });
  // Session and stream errors (a client that resets, a bad frame) end that session or stream only.
  server.on('sessionError', () => undefined);
  server.on('streamError', () => undefined);
  return server;
}
