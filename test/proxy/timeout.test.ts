import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Route } from '../../src/api/snapshot.js';
import { Sidecar } from '../../src/proxy/sidecar.js';
import { assignment, cluster, endpoint, outboundSnapshot, testNode, viaProxy } from './helpers.js';
import { ManualClock } from '../support/manual-clock.js';
import { recorder } from './helpers.js';

// Istio's VirtualService `timeout` (RouteAction.timeoutMs, Envoy's route response timeout)
// through a real sidecar and a real upstream on loopback. The upstream holds every response
// until the test releases it, and tells when the proxy closed its request's socket; the sidecar
// gets a manual clock, so the timeout fires exactly when the test advances it past the limit.

const NET = '127.10.232';
const PROXY = `${NET}.1`;
const UPSTREAM = `${NET}.10`;
const PORT = 8080;
const CLUSTER = 'outbound|8080||svc.test.svc.cluster.local';
const TIMEOUT_MS = 1000;
const proxy = { address: PROXY, port: 15001 };

/** A request the upstream holds: the test answers it; `closed` resolves when its socket closes. */
interface Held {
  req: IncomingMessage;
  res: ServerResponse;
  closed: Promise<void>;
  isClosed(): boolean;
}

/** An upstream that answers nothing by itself: each request waits in a queue for the test. */
function holdingUpstream(): { server: Server; next(): Promise<Held> } {
  const queue: Held[] = [];
  const waiters: Array<(h: Held) => void> = [];
  const server = createServer((req, res) => {
    let closed = false;
    const held: Held = { req, res, isClosed: () => closed, closed: new Promise((resolve) => req.socket.once('close', () => ((closed = true), resolve()))) };
    const w = waiters.shift();
    if (w) w(held);
    else queue.push(held);
  });
  return { server, next: () => new Promise((resolve) => (queue.length > 0 ? resolve(queue.shift()!) : waiters.push(resolve))) };
}

function route(prefix: string, timeoutMs?: number): Route {
  const r: Route = { name: prefix.slice(1), match: [{ uri: { prefix } }], action: { kind: 'route', destinations: [{ cluster: CLUSTER, weight: 100 }] } };
  if (timeoutMs !== undefined && r.action.kind === 'route') r.action.timeoutMs = timeoutMs;
  return r;
}

/** A response as it reaches the client, truncated or not (viaProxy only resolves complete ones). */
function rawGet(path: string): { headers: Promise<IncomingMessage>; end: Promise<{ complete: boolean; body: string }>; cancel(): void } {
  const req = request({ host: PROXY, port: 15001, path: `http://svc.test:8080${path}`, headers: { host: 'svc.test:8080' }, agent: false });
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
  req.end();
  return { headers, end, cancel: () => req.destroy() };
}

describe('route timeout (VirtualService timeout)', { timeout: 60_000 }, () => {
  const upstream = holdingUpstream();
  let sidecar: Sidecar;
  const clock = new ManualClock();
  const rec = recorder();
  const get = (path: string) => viaProxy({ proxy, url: `http://svc.test:8080${path}` });

  before(async () => {
    await new Promise<void>((resolve) => upstream.server.listen(PORT, UPSTREAM, resolve));
    sidecar = new Sidecar({ clock, httpFilters: [rec.factory] });
    const node = testNode(PROXY);
    const snap = outboundSnapshot('1', node, {
      listeners: [{ name: 'outbound_http_15001', direction: 'outbound', address: PROXY, port: 15001, protocol: 'http', routeConfigName: 'outbound_http', acceptsHttp2: true }],
      routes: [{ name: 'outbound_http', virtualHosts: [{ name: 'svc', domains: ['svc.test:8080'], routes: [route('/timed', TIMEOUT_MS), route('/zero', 0), route('/plain')] }] }],
      clusters: [cluster(CLUSTER)],
      endpoints: [assignment(CLUSTER, [endpoint(UPSTREAM, PORT)])],
    });
    const r = sidecar.applySnapshot(snap);
    assert.equal(r.ok, true, JSON.stringify(r));
    await sidecar.settled();
    assert.equal(sidecar.bindErrors.size, 0);
    assert.equal(clock.pending, 0, 'the sidecar itself arms no timer');
  });

  after(async () => {
    await sidecar?.stop(0);
    upstream.server.closeAllConnections();
    await new Promise<void>((resolve) => upstream.server.close(() => resolve()));
  });

  test('Envoy: the timeout is armed when the upstream request starts and nothing happens before it elapses', async () => {
    const reply = get('/timed/early');
    const held = await upstream.next();
    assert.equal(clock.pending, 1);
    assert.equal(clock.scheduled.at(-1), TIMEOUT_MS);
    clock.advance(TIMEOUT_MS - 1);
    assert.equal(clock.pending, 1, 'still armed one ms before the limit');
    assert.equal(rec.done.length, 0, 'no reply yet');
    assert.equal(held.isClosed(), false, 'the upstream request is still open');
    // Then the upstream answers in time: untouched, and the timer is cleared.
    const completed = rec.next();
    held.res.writeHead(200, { 'content-type': 'text/plain' });
    held.res.end('in time');
    const r = await reply;
    assert.equal(r.status, 200);
    assert.equal(r.body, 'in time');
    assert.equal(r.flag, undefined);
    const d = await completed;
    assert.deepEqual([d.status, d.flag, d.details], [200, '-', 'via_upstream']);
    assert.equal(clock.pending, 0, 'timer cleared on completion');
  });

  test('Envoy/Istio: at the timeout, before response headers: 504 UT `upstream request timeout`, upstream request aborted', async () => {
    const reply = get('/timed/slow');
    const held = await upstream.next();
    const completed = rec.next();
    clock.advance(TIMEOUT_MS);
    const r = await reply;
    assert.equal(r.status, 504);
    assert.equal(r.flag, 'UT');
    assert.equal(r.body, 'upstream request timeout');
    await held.closed; // the upstream sees its request's socket close
    const d = await completed;
    assert.deepEqual([d.status, d.flag, d.details], [504, 'UT', 'response_timeout']);
    assert.equal(clock.pending, 0);
    assert.equal(sidecar.stats.get('upstream.rq_timeout'), 1);
  });

  test('Envoy: the timeout covers the whole response: after the headers were sent, the client stream is reset (UT)', async () => {
    const call = rawGet('/timed/stream');
    const held = await upstream.next();
    held.res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '10' });
    held.res.write('hello');
    const res = await call.headers; // the headers reached the client
    assert.equal(res.statusCode, 200);
    assert.equal(clock.pending, 1, 'still armed while the body streams');
    const completed = rec.next();
    clock.advance(TIMEOUT_MS);
    const end = await call.end;
    assert.equal(end.complete, false, 'truncated response');
    assert.ok(end.body.length < 10);
    await held.closed;
    const d = await completed;
    assert.deepEqual([d.status, d.flag, d.details], [200, 'UT', 'response_timeout']);
    assert.equal(clock.pending, 0);
  });

  test('Istio: no timeout (absent, or 0) arms no timer', async () => {
    const before = clock.scheduled.length;
    for (const path of ['/plain/x', '/zero/x']) {
      const reply = get(path);
      const held = await upstream.next();
      assert.equal(clock.pending, 0, `${path}: no pending timer`);
      held.res.writeHead(200, { 'content-type': 'text/plain' });
      held.res.end('ok');
      const r = await reply;
      assert.equal(r.status, 200);
      assert.equal(r.body, 'ok');
    }
    assert.equal(clock.scheduled.length, before, 'no timer was ever scheduled');
  });

  test('the timer is cleared when the client goes away (DC)', async () => {
    const call = rawGet('/timed/leave');
    const held = await upstream.next();
    assert.equal(clock.pending, 1);
    const completed = rec.next();
    call.cancel();
    const d = await completed;
    assert.equal(d.flag, 'DC');
    assert.equal(clock.pending, 0, 'timer cleared on client disconnect');
    await held.closed; // and the upstream request was stopped
  });
});
