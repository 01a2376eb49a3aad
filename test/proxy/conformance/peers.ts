import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { constants, createServer as createH2Server, type ClientHttp2Session, type Http2Server, type OutgoingHttpHeaders } from 'node:http2';

// Test peers the faulty upstream cannot play: an HTTP/1.1 upstream whose every answer the row
// writes itself (headers now, body later), an h2c upstream that refuses streams (REFUSED_STREAM),
// and a client that sees a truncated response (viaProxy only resolves complete ones).

/** A request the holding upstream received: the row answers it; `closed` resolves when its socket closes. */
export interface Held {
  req: IncomingMessage;
  res: ServerResponse;
  closed: Promise<void>;
  isClosed(): boolean;
}

export interface HoldingUpstream {
  server: Server;
  /** The next request received (queued when it arrived before the call). */
  next(): Promise<Held>;
  listen(address: string, port: number): Promise<void>;
  close(): Promise<void>;
}

/** An upstream that answers nothing by itself: each request waits in a queue for the row. */
export function holdingUpstream(): HoldingUpstream {
  const queue: Held[] = [];
  const waiters: Array<(h: Held) => void> = [];
  const server = createServer((req, res) => {
    let closed = false;
    const held: Held = { req, res, isClosed: () => closed, closed: new Promise((resolve) => req.socket.once('close', () => ((closed = true), resolve()))) };
    const w = waiters.shift();
    if (w) w(held);
    else queue.push(held);
  });
  return {
    server,
    next: () => new Promise((resolve) => (queue.length > 0 ? resolve(queue.shift()!) : waiters.push(resolve))),
    listen: (address, port) => new Promise((resolve) => server.listen(port, address, resolve)),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface RefusingH2Upstream {
  server: Http2Server;
  /** Streams received, refused ones included. */
  streams: number;
  /** The next `n` streams are reset with REFUSED_STREAM before any header; later ones get 200. */
  refuseNext(n: number): void;
  listen(address: string, port: number): Promise<void>;
  close(): Promise<void>;
}

/** An h2c upstream (prior knowledge) that refuses the streams it is told to, as an overloaded h2 server does. */
export function refusingH2Upstream(): RefusingH2Upstream {
  let refuse = 0;
  const server = createH2Server();
  const peer: RefusingH2Upstream = {
    server,
    streams: 0,
    refuseNext: (n) => void (refuse = n),
    listen: (address, port) => new Promise((resolve) => server.listen(port, address, resolve)),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  server.on('stream', (stream) => {
    peer.streams++;
    if (refuse > 0) {
      refuse--;
      stream.on('error', () => undefined); // closing with an error code also reports it on our side
      stream.close(constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    stream.respond({ ':status': 200, 'content-type': 'text/plain' });
    stream.end('accepted');
  });
  // Sessions outlive a test otherwise: close them with the server.
  server.on('session', (session) => server.once('close', () => session.destroy()));
  return peer;
}

/** A GET through the proxy whose response may end truncated (`complete: false`). */
export function rawGet(proxy: { address: string; port: number }, url: string): { headers: Promise<IncomingMessage>; end: Promise<{ complete: boolean; body: string }>; cancel(): void } {
  const req = request({ host: proxy.address, port: proxy.port, path: url, headers: { host: new URL(url).host }, agent: false });
  const headers = new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
  const end = headers.then(
    (res) =>
      new Promise<{ complete: boolean; body: string }>((resolve) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('error', () => undefined); // "aborted": the truncation under test
        res.once('close', () => resolve({ complete: res.complete, body }));
      }),
  );
  end.catch(() => undefined);
  headers.catch(() => undefined);
  req.end();
  return { headers, end, cancel: () => req.destroy() };
}

/** One h2 request without a body: the response headers and trailers, merged. */
export function h2Exchange(client: ClientHttp2Session, headers: OutgoingHttpHeaders): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = client.request(headers);
    let got: Record<string, unknown> = {};
    req.on('response', (h) => (got = { ...h }));
    req.on('trailers', (t) => (got = { ...got, ...t }));
    req.on('error', reject);
    req.on('end', () => resolve(got));
    req.resume();
    req.end();
  });
}
