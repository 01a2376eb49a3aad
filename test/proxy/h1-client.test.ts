import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import type { Endpoint } from '../../src/api/snapshot.js';
import { Readable } from 'node:stream';
import { H1Pool } from '../../src/proxy/upstream/h1-client.js';
import { CircuitBreakers } from '../../src/proxy/upstream/circuit-breakers.js';
import { connectionPoolSettings } from '../../src/proxy/upstream/connection-pool-settings.js';
import { Stats } from '../../src/proxy/stats.js';

const endpoint = (e: Partial<Endpoint>): Endpoint => ({ address: '', port: 0, instance: 'test', labels: {}, healthy: true, ...e });

// The sidecar's own keep-alive HTTP/1.1 client (it replaced undici on the body-less hot path,
// measured in `meshmedic bench proxy`): every way a response can end, framing errors undici
// also rejects, and socket reuse that must not mix responses up. Real servers on loopback.

const ADDR = '127.10.227.1';
let http: Server;
let raw: NetServer;
let pool: H1Pool;
let rawPool: H1Pool;

interface Outcome {
  status: number;
  interim: number[];
  body: string;
  length: number;
  error: string | null;
  headerNames: string[];
}

const unlimited = () => new CircuitBreakers('test', connectionPoolSettings(undefined), new Stats());
const BREAKERS = unlimited();

function send(p: H1Pool, method: string, path: string, headers: Record<string, string | string[]> = { host: 'x' }, slowReader = false, body: Readable | null = null, breakers = BREAKERS): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Outcome = { status: 0, interim: [], body: '', length: 0, error: null, headerNames: [] };
    const chunks: Buffer[] = [];
    let resume: () => void = () => {};
    p.dispatch(method, path, headers, body, {
      onConnect() {},
      onHeaders(status: number, h: Array<Buffer | string>, r: () => void) {
        if (status < 200) return out.interim.push(status), true;
        out.status = status;
        out.headerNames = h.filter((_, i) => i % 2 === 0).map((x) => String(x).toLowerCase());
        resume = r;
        return true;
      },
      onData(c: Buffer) {
        chunks.push(Buffer.from(c));
        if (slowReader) return setTimeout(resume, 1), false;
        return true;
      },
      onComplete() {
        const b = Buffer.concat(chunks);
        resolve({ ...out, body: b.toString().slice(0, 40), length: b.length });
      },
      onError(e: Error & { code?: string }) {
        resolve({ ...out, error: e.code ?? e.message });
      },
    } as never, breakers);
  });
}

before(async () => {
  http = createHttpServer((req, res) => {
    switch (req.url) {
      case '/chunked':
        res.write('abc');
        setTimeout(() => res.end('defgh'), 5);
        return;
      case '/204':
        return void res.writeHead(204).end();
      case '/304':
        return void res.writeHead(304, { etag: 'x' }).end();
      case '/big':
        res.setHeader('content-length', 3_000_000);
        return void res.end(Buffer.alloc(3_000_000, 97));
      case '/early':
        res.writeEarlyHints({ link: '</a>; rel=preload' });
        return void res.end('after hints');
      case '/reset':
        res.setHeader('content-length', 100);
        res.write('partial');
        setTimeout(() => res.socket?.destroy(), 5);
        return;
      case '/echo': {
        // The request body back, with how it was framed.
        const parts: Buffer[] = [];
        req.on('data', (c: Buffer) => parts.push(c));
        req.on('end', () => res.end(`${req.headers['transfer-encoding'] ?? 'length'}:${Buffer.concat(parts).length}`));
        return;
      }
      case '/slow':
        return void setTimeout(() => res.end('slow'), 20);
      case '/close':
        res.setHeader('connection', 'close');
        return void res.end('bye');
      default:
        res.setHeader('x-method', req.method ?? '');
        res.end(req.method === 'HEAD' ? undefined : 'hello');
    }
  });
  raw = createNetServer((s) =>
    s.on('data', (d) => {
      const path = d.toString().split(' ')[1];
      if (path === '/eof') s.end('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil close body');
      else if (path === '/split') {
        const r = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello';
        let i = 0;
        const t = setInterval(() => {
          s.write(r.slice(i, (i += 3)));
          if (i >= r.length) clearInterval(t);
        }, 1);
      } else if (path === '/chunkext') s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\nx-trailer: 1\r\n\r\n');
      else if (path === '/bad') s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello');
      else if (path === '/stray') {
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
        setTimeout(() => s.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil'), 5);
      } else if (path === '/idleclose') s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      else if (path === '/extra') s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiGARBAGE');
    }),
  );
  await new Promise<void>((r) => http.listen(0, ADDR, () => r()));
  await new Promise<void>((r) => raw.listen(0, ADDR, () => r()));
  pool = new H1Pool(endpoint({ address: ADDR, port: (http.address() as { port: number }).port }));
  rawPool = new H1Pool(endpoint({ address: ADDR, port: (raw.address() as { port: number }).port }));
});

after(async () => {
  await pool.close();
  await rawPool.close();
  http.closeAllConnections();
  http.close();
  raw.close();
});

test('responses end the ways HTTP/1.1 allows', async () => {
  const get = await send(pool, 'GET', '/');
  assert.deepEqual([get.status, get.body, get.error], [200, 'hello', null]);
  assert.ok(get.headerNames.includes('x-method'));
  assert.deepEqual([(await send(pool, 'POST', '/')).body], ['hello']); // no body sent
  const head = await send(pool, 'HEAD', '/');
  assert.deepEqual([head.status, head.length], [200, 0]);
  assert.equal((await send(pool, 'GET', '/chunked')).body, 'abcdefgh');
  assert.deepEqual([(await send(pool, 'GET', '/204')).status, (await send(pool, 'GET', '/304')).length], [204, 0]);
  const big = await send(pool, 'GET', '/big', { host: 'x' }, true); // a slow reader: backpressure
  assert.equal(big.length, 3_000_000);
  const early = await send(pool, 'GET', '/early');
  assert.deepEqual([early.interim, early.body], [[103], 'after hints']);
  assert.equal((await send(rawPool, 'GET', '/eof')).body, 'until close body');
  assert.equal((await send(rawPool, 'GET', '/split')).body, 'hello');
  assert.equal((await send(rawPool, 'GET', '/chunkext')).body, 'abc');
});

test('errors: reset mid-body, bad framing, header injection, refused and missing sockets', async () => {
  const reset = await send(pool, 'GET', '/reset');
  assert.deepEqual([reset.status, reset.error], [200, 'UND_ERR_SOCKET']);
  assert.equal((await send(rawPool, 'GET', '/bad')).error, 'HPE_UNEXPECTED_CONTENT_LENGTH');
  assert.equal((await send(pool, 'GET', '/', { host: 'x\r\nevil: 1' })).error, 'UND_ERR_INVALID_ARG');
  const refused = new H1Pool(endpoint({ address: ADDR, port: 1 }));
  assert.equal((await send(refused, 'GET', '/')).error, 'ECONNREFUSED');
  await refused.close();
  const missing = new H1Pool(endpoint({ socketPath: '/tmp/meshmedic-no-such.sock' }));
  assert.equal((await send(missing, 'GET', '/')).error, 'ENOENT');
  await missing.close();
});

test('a reused socket never hands one request another response', async () => {
  assert.equal((await send(pool, 'GET', '/close')).body, 'bye');
  assert.equal((await send(pool, 'GET', '/')).body, 'hello'); // after `connection: close`, a new socket
  assert.equal((await send(rawPool, 'GET', '/extra')).body, 'hi'); // bytes beyond content-length are not a response
  assert.equal((await send(rawPool, 'GET', '/stray')).body, 'ok');
  await new Promise((r) => setTimeout(r, 20)); // the stray bytes arrive on the idle socket, which is dropped
  assert.equal((await send(rawPool, 'GET', '/split')).body, 'hello');
  assert.equal((await send(rawPool, 'GET', '/idleclose')).body, 'ok');
  await new Promise((r) => setImmediate(r)); // one turn: the close is seen, the next request gets a new socket
  assert.equal((await send(rawPool, 'GET', '/split')).body, 'hello');
  const parallel = await Promise.all(Array.from({ length: 20 }, () => send(pool, 'GET', '/')));
  assert.ok(parallel.every((x) => x.status === 200 && x.body === 'hello'));
});

test('request bodies stream upstream: with their length, else chunked', async () => {
  const sized = await send(pool, 'POST', '/echo', { host: 'x', 'content-length': '5' }, false, Readable.from([Buffer.from('he'), Buffer.from('llo')]));
  assert.equal(sized.body, 'length:5');
  const big = Buffer.alloc(2_000_000, 98);
  const chunked = await send(pool, 'PUT', '/echo', { host: 'x' }, false, Readable.from([big.subarray(0, 1_000_000), big.subarray(1_000_000)]));
  assert.equal(chunked.body, 'chunked:2000000');
  assert.equal((await send(pool, 'GET', '/')).body, 'hello'); // the connection is reusable after a body
});

test('connection limits: a request waits for a connection, then overflows (Envoy circuit breakers)', async () => {
  const limited = new CircuitBreakers('limited', connectionPoolSettings({ tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1 } }), new Stats());
  const p = new H1Pool(endpoint({ address: ADDR, port: (http.address() as { port: number }).port }));
  const viaLimited = (path: string) => send(p, 'GET', path, undefined, false, null, limited);
  // The first request opens the one connection and is pending while it connects: the queue is full.
  const first = viaLimited('/slow');
  assert.equal((await viaLimited('/')).error, 'UPSTREAM_OVERFLOW');
  assert.equal((await first).body, 'slow');
  // The connection is idle now: one request takes it, the next waits in the queue, the third overflows.
  const busy = viaLimited('/slow');
  const queued = viaLimited('/');
  assert.equal(limited.pending, 1);
  assert.equal((await viaLimited('/')).error, 'UPSTREAM_OVERFLOW');
  assert.deepEqual([(await busy).body, (await queued).body], ['slow', 'hello']);
  assert.deepEqual([limited.connections, limited.pending], [1, 0]);
  await p.destroy();
});

test('maxRequestsPerConnection closes a connection after that many requests', async () => {
  const once = new CircuitBreakers('once', connectionPoolSettings({ http: { maxRequestsPerConnection: 1 } }), new Stats());
  const p = new H1Pool(endpoint({ address: ADDR, port: (http.address() as { port: number }).port }));
  const ports = new Set<number>();
  const seen = (req: { socket: { remotePort?: number } }) => ports.add(req.socket.remotePort ?? 0);
  http.on('request', seen);
  for (let i = 0; i < 3; i++) assert.equal((await send(p, 'GET', '/', undefined, false, null, once)).body, 'hello');
  http.off('request', seen);
  assert.equal(ports.size, 3); // three requests, three connections
  await p.destroy();
});
