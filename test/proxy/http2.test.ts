import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type ClientHttp2Session, type Http2Server, type Http2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ProxySnapshot } from '../../src/api/snapshot.js';
import { Sidecar } from '../../src/proxy/sidecar.js';
import { assignment, cluster, endpoint, outboundSnapshot, startUpstream, testNode, viaProxy, type Upstream } from './helpers.js';

// h2c through a real sidecar on real sockets: h2 clients (node:http2, prior knowledge, as gRPC)
// and HTTP/1.1 clients on the same listener, to h2c upstreams (TCP and unix socket) and to an
// HTTP/1.1 upstream; routing on `:authority` and headers; gRPC trailers; session reuse and
// reconnection; local replies to gRPC requests.

const NET = '127.10.228';
const PROXY = `${NET}.1`;
const H2_UPSTREAM = `${NET}.10`;
const H1_UPSTREAM = `${NET}.11`;
const DEAD = `${NET}.99`;
const PORT = 8080;

const GRPC = 'outbound|9090||grpc.test.svc.cluster.local';
const GRPC_UNIX = 'outbound|9090|unix|grpc.test.svc.cluster.local';
const GRPC_DEAD = 'outbound|9090|dead|grpc.test.svc.cluster.local';
const WEB = 'outbound|8080||web.test.svc.cluster.local';

interface H2Echo {
  upstream: string;
  httpVersion: string;
  method: string;
  path: string;
  authority: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface H2Upstream {
  server: Http2Server;
  sessions: Set<Http2Session>;
  /** Sessions ever opened by the sidecar to this upstream. */
  sessionCount(): number;
  close(): Promise<void>;
}

/**
 * An h2c upstream that answers its request as JSON. `/grpc/<code>` answers as a gRPC server:
 * content-type application/grpc, the echo as body, then trailers `grpc-status: <code>`.
 */
async function startH2Upstream(name: string, where: { address: string; port: number } | { socketPath: string }): Promise<H2Upstream> {
  const sessions = new Set<Http2Session>();
  let opened = 0;
  const server = createServer();
  server.on('session', (s) => {
    opened++;
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const path = String(headers[':path']);
      const plain: IncomingHttpHeaders = {};
      for (const k of Object.keys(headers)) if (!k.startsWith(':')) plain[k] = headers[k];
      const echo: H2Echo = { upstream: name, httpVersion: '2.0', method: String(headers[':method']), path, authority: String(headers[':authority']), headers: plain, body: Buffer.concat(chunks).toString() };
      const body = JSON.stringify(echo);
      const grpc = /^\/grpc\/(\d+)/.exec(path);
      if (grpc) {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'x-upstream': name }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': grpc[1], 'grpc-message': 'from-upstream' }));
        stream.end(body);
      } else {
        stream.respond({ ':status': 200, 'content-type': 'application/json', 'x-upstream': name });
        stream.end(body);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if ('socketPath' in where) server.listen(where.socketPath, resolve);
    else server.listen(where.port, where.address, resolve);
  });
  return {
    server,
    sessions,
    sessionCount: () => opened,
    close: () =>
      new Promise((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}

interface H2Response {
  status: number;
  headers: IncomingHttpHeaders;
  trailers: IncomingHttpHeaders;
  body: string;
  echo: H2Echo | undefined;
}

function h2Request(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: string): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const req = session.request(headers, { endStream: body === undefined });
    let status = 0;
    let resHeaders: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => {
      status = Number(h[':status']);
      resHeaders = h;
    });
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', reject);
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      let echo: H2Echo | undefined;
      try {
        echo = text.startsWith('{') ? (JSON.parse(text) as H2Echo) : undefined;
      } catch {
        echo = undefined;
      }
      resolve({ status, headers: resHeaders, trailers, body: text, echo });
    });
    if (body !== undefined) req.end(body); // no content-length, as gRPC clients send
  });
}

const get = (authority: string, path: string, extra: OutgoingHttpHeaders = {}): OutgoingHttpHeaders => ({ ':method': 'GET', ':path': path, ':authority': authority, ...extra });

function snapshot(node: ReturnType<typeof testNode>, socketPath: string): ProxySnapshot {
  const to = (c: string) => ({ kind: 'route' as const, destinations: [{ cluster: c, weight: 100 }] });
  return outboundSnapshot('1', node, {
    // This listener takes h2c as well as HTTP/1.1 (as the control plane marks http2/grpc ports).
    listeners: [{ name: 'outbound_http_15001', direction: 'outbound', address: node.address, port: 15001, protocol: 'http', routeConfigName: 'outbound_http', acceptsHttp2: true }],
    routes: [
      {
        name: 'outbound_http',
        virtualHosts: [
          {
            name: 'grpc.svc:9090',
            domains: ['grpc.svc', 'grpc.svc:9090'],
            routes: [
              { name: 'by-header', match: [{ headers: { 'x-variant': { exact: 'unix' } } }], action: to(GRPC_UNIX), headers: { response: { set: { 'x-route': 'by-header' } } } },
              { name: 'dead', match: [{ uri: { prefix: '/dead' } }], action: to(GRPC_DEAD), headers: { response: { set: { 'x-route': 'dead' } } } },
              {
                name: 'default',
                match: [],
                action: to(GRPC),
                headers: { request: { set: { 'x-added': 'by-route' } }, response: { set: { 'x-route': 'default' } } },
              },
            ],
          },
          { name: 'web.svc:8080', domains: ['web.svc', 'web.svc:8080'], routes: [{ name: 'web', match: [], action: to(WEB), headers: { response: { set: { 'x-route': 'web' } } } }] },
        ],
      },
    ],
    clusters: [cluster(GRPC, 'ROUND_ROBIN', { protocol: 'http2', port: 9090 }), cluster(GRPC_UNIX, 'ROUND_ROBIN', { protocol: 'http2', port: 9090 }), cluster(GRPC_DEAD, 'ROUND_ROBIN', { protocol: 'http2', port: 9090 }), cluster(WEB)],
    endpoints: [
      assignment(GRPC, [endpoint(H2_UPSTREAM, PORT)]),
      assignment(GRPC_UNIX, [endpoint('0.0.0.0', 0, { socketPath })]),
      assignment(GRPC_DEAD, [endpoint(DEAD, PORT)]),
      assignment(WEB, [endpoint(H1_UPSTREAM, PORT)]),
    ],
  });
}

describe('h2c (HTTP/2 cleartext) through the sidecar', () => {
  let dir: string;
  let sidecar: Sidecar;
  let h2: H2Upstream;
  let h2Unix: H2Upstream;
  let h1: Upstream;
  let client: ClientHttp2Session;
  const proxy = { address: PROXY, port: 15001 };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'meshmedic-h2-'));
    const socketPath = join(dir, 'app.sock');
    h2 = await startH2Upstream('h2', { address: H2_UPSTREAM, port: PORT });
    h2Unix = await startH2Upstream('h2-unix', { socketPath });
    h1 = await startUpstream('h1', { address: H1_UPSTREAM, port: PORT });
    sidecar = new Sidecar();
    const r = sidecar.applySnapshot(snapshot(testNode(PROXY), socketPath));
    assert.equal(r.ok, true, JSON.stringify(r));
    await sidecar.settled();
    assert.equal(sidecar.bindErrors.size, 0);
    client = connect(`http://${PROXY}:15001`);
  });

  after(async () => {
    client?.destroy();
    await sidecar?.stop(0);
    await Promise.all([h2?.close(), h2Unix?.close(), h1?.close()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('an h2 client reaches an h2c upstream, routed on :authority, with header operations', async () => {
    const r = await h2Request(client, get('grpc.svc:9090', '/hello?x=1'));
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-route'], 'default');
    assert.equal(r.echo?.upstream, 'h2');
    assert.equal(r.echo?.path, '/hello?x=1');
    assert.equal(r.echo?.authority, 'grpc.svc:9090');
    assert.equal(r.echo?.headers['x-added'], 'by-route');
    assert.equal(r.echo?.headers.host, undefined, 'the authority travels as :authority, not Host');
  });

  test('route matching on headers of an h2 request (to an h2c upstream on a unix socket)', async () => {
    const r = await h2Request(client, get('grpc.svc', '/hello', { 'x-variant': 'unix' }));
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-route'], 'by-header');
    assert.equal(r.echo?.upstream, 'h2-unix');
  });

  test('an h2 request body without content-length (as gRPC sends it) is streamed upstream', async () => {
    const r = await h2Request(client, { ':method': 'POST', ':path': '/echo', ':authority': 'grpc.svc:9090', 'content-type': 'application/octet-stream' }, 'payload-bytes');
    assert.equal(r.status, 200);
    assert.equal(r.echo?.method, 'POST');
    assert.equal(r.echo?.body, 'payload-bytes');
  });

  test('gRPC trailers (grpc-status) reach an h2 client', async () => {
    const grpcHeaders = { ':method': 'POST', ':authority': 'grpc.svc:9090', 'content-type': 'application/grpc', te: 'trailers' };
    const ok = await h2Request(client, { ...grpcHeaders, ':path': '/grpc/0' }, 'msg');
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['content-type'], 'application/grpc');
    assert.equal(ok.trailers['grpc-status'], '0');
    assert.equal(ok.trailers['grpc-message'], 'from-upstream');
    assert.equal(ok.echo?.body, 'msg');
    assert.equal(ok.echo?.headers.te, 'trailers');
    const failed = await h2Request(client, { ...grpcHeaders, ':path': '/grpc/5' }, 'msg');
    assert.equal(failed.trailers['grpc-status'], '5');
  });

  test('an HTTP/1.1 client reaches an http2 cluster (the sidecar translates; trailers dropped)', async () => {
    const r = await viaProxy({ proxy, url: 'http://grpc.svc:9090/from-h1' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-route'], 'default');
    const echo = JSON.parse(r.body) as H2Echo;
    assert.equal(echo.upstream, 'h2');
    assert.equal(echo.httpVersion, '2.0');
    assert.equal(echo.authority, 'grpc.svc:9090');
    const post = await viaProxy({ proxy, url: 'http://grpc.svc:9090/grpc/0', method: 'POST', body: 'h1-body', headers: { 'content-type': 'application/grpc' } });
    assert.equal(post.status, 200);
    assert.equal((JSON.parse(post.body) as H2Echo).body, 'h1-body');
    assert.equal(post.headers['grpc-status'], undefined);
  });

  test('the same listener still serves HTTP/1.1 to an HTTP/1.1 cluster', async () => {
    const r = await viaProxy({ proxy, url: 'http://web.svc:8080/page' });
    assert.equal(r.status, 200);
    assert.equal(r.upstream, 'h1');
    assert.equal(r.headers['x-route'], 'web');
    assert.equal(r.echo?.url, '/page');
  });

  test('an h2 client reaches an HTTP/1.1 upstream', async () => {
    const r = await h2Request(client, { ':method': 'POST', ':path': '/from-h2', ':authority': 'web.svc:8080' }, 'to-h1');
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-route'], 'web');
    const echo = JSON.parse(r.body) as { upstream: string; url: string; body: string; headers: Record<string, string> };
    assert.equal(echo.upstream, 'h1');
    assert.equal(echo.url, '/from-h2');
    assert.equal(echo.body, 'to-h1');
    assert.equal(echo.headers.host, 'web.svc:8080');
  });

  test('a large response streams to an h2 client (flow control and backpressure)', async () => {
    const r = await h2Request(client, get('web.svc:8080', '/big/3000000'));
    assert.equal(r.status, 200);
    assert.equal(r.body.length, 3_000_000);
  });

  test('local replies to h2 clients carry the flag; gRPC requests get grpc-status (503: UNAVAILABLE)', async () => {
    const nr = await h2Request(client, get('nowhere.svc', '/'));
    assert.equal(nr.status, 404);
    assert.equal(nr.headers['x-meshmedic-flags'], 'NR');
    const uf = await h2Request(client, get('grpc.svc:9090', '/dead'));
    assert.equal(uf.status, 503);
    assert.equal(uf.headers['x-meshmedic-flags'], 'UF,URX', 'retried by Istio default policy');
    const grpc = await h2Request(client, { ':method': 'POST', ':path': '/dead/Call', ':authority': 'grpc.svc:9090', 'content-type': 'application/grpc' }, 'x');
    assert.equal(grpc.status, 200);
    assert.equal(grpc.headers['grpc-status'], '14');
    assert.equal(grpc.headers['x-meshmedic-flags'], 'UF,URX', 'a request with a body is retried too (kept for replay, as Envoy buffers it)');
    assert.match(decodeURIComponent(String(grpc.headers['grpc-message'])), /connection failure/);
  });

  test('one upstream session carries many requests, and a closed one is replaced', async () => {
    const before = h2.sessionCount();
    await Promise.all([1, 2, 3, 4].map((i) => h2Request(client, get('grpc.svc:9090', `/reuse/${i}`))));
    await h2Request(client, get('grpc.svc:9090', '/reuse/5'));
    assert.ok(h2.sessionCount() - before <= 1, `sessions opened: ${h2.sessionCount() - before}`);
    const closed = [...h2.sessions].map((s) => new Promise((resolve) => s.once('close', resolve)));
    for (const s of h2.sessions) s.close();
    await Promise.all(closed);
    const r = await h2Request(client, get('grpc.svc:9090', '/after-close'));
    assert.equal(r.status, 200);
    assert.equal(r.echo?.path, '/after-close');
  });
});
