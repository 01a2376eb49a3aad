import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Span } from '../../src/telemetry/tracing/span.js';
import { viaProxy } from '../proxy/helpers.js';
import { DETAILS, DETAILS_CLUSTER, PP, RATINGS, RATINGS_CLUSTER, startMesh, type Mesh } from './tracing-fixture.js';

// Trace propagation and spans through real sidecars and a real application that forwards the
// headers it received (tracing-fixture.ts): productpage's sidecar (outbound) -> details'
// sidecar (inbound) -> details app -> details' sidecar (outbound) -> ratings' sidecar
// (inbound) -> ratings app, which shows the headers that arrived.

const T32 = '4bf92f3577b34da6a3ce929d0e0e4736';
const T16 = 'a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';
const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** A request id whose first 8 hex digits are 100 modulo 10000: not sampled at 1%, sampled at 2%. */
const RID_AT_100 = '00000064-aaaa-4aaa-8aaa-aaaaaaaaaaaa';

let mesh: Mesh;
let seq = 0;
/** A fresh request id (sampled by the 1% default: its first 8 hex digits are 0 modulo 10000). */
const rid = (tag: string) => `${(++seq * 10000).toString(16).padStart(8, '0')}-${tag}`;
const get = (path: string, headers: Record<string, string>, host = 'details:9080') => viaProxy({ proxy: { address: PP, port: 15001 }, url: `http://${host}${path}`, headers });
const receivedBy = (requestId: string) => mesh.ratingsApp.received.find((r) => r.headers['x-request-id'] === requestId);
const one = (spans: Span[], instance: string, kind: Span['kind']) => {
  const found = spans.filter((s) => s.instance === instance && s.kind === kind);
  assert.equal(found.length, 1, `${instance} ${kind}: ${JSON.stringify(spans.map((s) => [s.instance, s.kind]))}`);
  return found[0];
};

describe('tracing through real sidecars', { timeout: 60_000 }, () => {
  before(async () => {
    mesh = await startMesh();
  });
  after(async () => {
    await mesh?.close();
  });

  test('a forced trace: a CLIENT and a SERVER span per hop, parents linked through the application', async () => {
    const id = 'f0rced00-0000-4000-8000-000000000001';
    const r = await get('/details/0', { 'x-envoy-force-trace': 'true', 'x-request-id': id, 'user-agent': 'trace-test' });
    assert.equal(r.status, 200, r.body);
    const spans = await mesh.collector.forRequest(id, 4);
    assert.equal(spans.length, 4);
    const ppClient = one(spans, 'productpage-v1-0', 'CLIENT');
    const detailsServer = one(spans, 'details-v1-0', 'SERVER');
    const detailsClient = one(spans, 'details-v1-0', 'CLIENT');
    const ratingsServer = one(spans, 'ratings-v1-0', 'SERVER');
    // One trace; each span the child of the one before it.
    assert.equal(new Set(spans.map((s) => s.traceId)).size, 1);
    assert.match(ppClient.traceId, /^[0-9a-f]{32}$/);
    assert.equal(ppClient.parentId, undefined);
    assert.equal(detailsServer.parentId, ppClient.spanId);
    assert.equal(detailsClient.parentId, detailsServer.spanId);
    assert.equal(ratingsServer.parentId, detailsClient.spanId);
    assert.equal(new Set(spans.map((s) => s.spanId)).size, 4);
    // Istio's names: the client's route operation, which the server takes over.
    assert.equal(ppClient.name, 'details.bookinfo.svc.cluster.local:9080/*');
    assert.equal(detailsServer.name, ppClient.name);
    assert.equal(detailsClient.name, 'ratings.bookinfo.svc.cluster.local:9080/*');
    // Who recorded what, where it went, how it ended.
    assert.deepEqual([ppClient.service, ppClient.workload, ppClient.namespace, ppClient.version], ['productpage', 'productpage-v1', 'bookinfo', 'v1']);
    assert.equal(ppClient.upstreamCluster, DETAILS_CLUSTER);
    assert.equal(ppClient.upstreamHost, `${DETAILS}:9080`);
    assert.equal(detailsServer.upstreamCluster, 'inbound|9080||');
    assert.match(detailsServer.upstreamHost ?? '', /^unix:.*details\.sock$/);
    assert.equal(detailsClient.upstreamHost, `${RATINGS}:9080`);
    assert.equal(detailsClient.upstreamCluster, RATINGS_CLUSTER);
    for (const s of spans) {
      assert.equal(s.status, 200);
      assert.equal(s.responseFlags, '-');
      assert.equal(s.error, false);
      assert.equal(s.component, 'proxy');
      assert.equal(s.method, 'GET');
      assert.ok(s.durationMs >= 0);
      assert.ok(s.responseBytes > 0, `${s.instance} ${s.kind} response bytes`);
    }
    assert.equal(ppClient.url, 'http://details:9080/details/0');
    assert.equal(ppClient.userAgent, 'trace-test');
    // The outer span covers the inner ones.
    assert.ok(ppClient.startMs <= ratingsServer.startMs && ratingsServer.startMs + ratingsServer.durationMs <= ppClient.startMs + ppClient.durationMs);
    // What the last application received: the context of the span that called it, in B3 and W3C alike.
    const h = receivedBy(id)!.headers;
    assert.equal(h['x-b3-traceid'], ppClient.traceId);
    assert.equal(h['x-b3-spanid'], ratingsServer.spanId);
    assert.equal(h['x-b3-parentspanid'], detailsClient.spanId);
    assert.equal(h['x-b3-sampled'], '1');
    assert.equal(h.traceparent, `00-${ppClient.traceId}-${ratingsServer.spanId}-01`);
  });

  test('the caller\'s W3C trace is continued; x-request-id and tracestate are kept', async () => {
    const id = rid('w3c');
    const others = { 'x-ot-span-context': 'ot', 'x-cloud-trace-context': `${T32}/1;o=1`, 'grpc-trace-bin': 'AAARf/4=' };
    const r = await get('/details/0', { traceparent: `00-${T32}-${CALLER_SPAN}-01`, tracestate: 'congo=t61rcWkgMzE', 'x-request-id': id, ...others });
    assert.equal(r.status, 200);
    const spans = await mesh.collector.forRequest(id, 4);
    for (const s of spans) assert.equal(s.traceId, T32);
    assert.equal(one(spans, 'productpage-v1-0', 'CLIENT').parentId, CALLER_SPAN);
    const h = receivedBy(id)!.headers;
    assert.equal(h['x-request-id'], id);
    assert.equal(h.tracestate, 'congo=t61rcWkgMzE');
    // The application forwards the other tracers' headers too (Istio's list); the sidecars leave them alone.
    for (const [k, v] of Object.entries(others)) assert.equal(h[k], v, k);
    assert.equal(h['x-b3-traceid'], T32);
    assert.equal(h.traceparent, `00-${T32}-${one(spans, 'ratings-v1-0', 'SERVER').spanId}-01`);
  });

  test('a B3 single header with a 64-bit trace id is continued: kept 64-bit in B3, padded in W3C and in spans', async () => {
    const id = rid('b3');
    const r = await get('/details/0', { b3: `${T16}-${CALLER_SPAN}-1`, 'x-request-id': id });
    assert.equal(r.status, 200);
    const spans = await mesh.collector.forRequest(id, 4);
    for (const s of spans) assert.equal(s.traceId, `${'0'.repeat(16)}${T16}`);
    const server = one(spans, 'ratings-v1-0', 'SERVER');
    const h = receivedBy(id)!.headers;
    assert.equal(h['x-b3-traceid'], T16);
    assert.equal(h.b3, `${T16}-${server.spanId}-1-${server.parentId}`);
    assert.equal(h.traceparent, `00-${'0'.repeat(16)}${T16}-${server.spanId}-01`);
  });

  test('not sampled (1% by request id): no span anywhere, and the decision travels with the request', async () => {
    const r = await get('/details/0', { 'x-request-id': RID_AT_100 });
    assert.equal(r.status, 200);
    const h = receivedBy(RID_AT_100)!.headers;
    assert.equal(h['x-b3-sampled'], '0');
    assert.equal(h['x-b3-traceid'], undefined);
    assert.equal(h.traceparent, undefined);
    // A traced request after it: once its spans are in, the earlier one's would have been too.
    const id = rid('after');
    await get('/details/0', { 'x-request-id': id });
    await mesh.collector.forRequest(id, 4);
    assert.equal(mesh.collector.spans.filter((s) => s.requestId === RID_AT_100).length, 0);
  });

  test('x-request-id is generated when absent (a UUID4) and reaches every hop unchanged', async () => {
    const before = mesh.ratingsApp.received.length;
    const r = await get('/details/0', { 'x-b3-sampled': '0' });
    assert.equal(r.status, 200);
    const generated = String(mesh.ratingsApp.received[before].headers['x-request-id']);
    assert.match(generated, UUID4);
    assert.equal(mesh.ratingsApp.received[before].headers['x-b3-sampled'], '0');
  });

  test('Telemetry sampling: 100% samples every request, and a caller\'s "not sampled" still wins', async () => {
    await mesh.setTelemetry({ tracing: { samplingPercent: 100 } });
    try {
      const id = 'zz-not-a-uuid';
      await get('/details/0', { 'x-request-id': id });
      assert.equal((await mesh.collector.forRequest(id, 4)).length, 4);
      await get('/details/0', { 'x-request-id': 'denied-by-caller', 'x-b3-sampled': '0' });
      const after = 'after-denied';
      await get('/details/0', { 'x-request-id': after });
      await mesh.collector.forRequest(after, 4);
      assert.equal(mesh.collector.spans.filter((s) => s.requestId === 'denied-by-caller').length, 0);
    } finally {
      await mesh.setTelemetry(undefined);
    }
  });

  test('Telemetry sampling 2% samples the request id that 1% did not; 0% samples nothing unless forced', async () => {
    await mesh.setTelemetry({ tracing: { samplingPercent: 2 } });
    const id = `${RID_AT_100.slice(0, 9)}bbbb-4bbb-8bbb-bbbbbbbbbbbb`;
    await get('/details/0', { 'x-request-id': id });
    assert.equal((await mesh.collector.forRequest(id, 4)).length, 4);
    await mesh.setTelemetry({ tracing: { samplingPercent: 0 } });
    try {
      const zero = '00000000-cccc-4ccc-8ccc-cccccccccccc';
      const r = await get('/details/0', { 'x-request-id': zero });
      assert.equal(receivedBy(zero)!.headers['x-b3-sampled'], '0');
      assert.equal(r.status, 200);
      const forced = '00000000-dddd-4ddd-8ddd-dddddddddddd';
      await get('/details/0', { 'x-request-id': forced, 'x-envoy-force-trace': 'true' });
      assert.equal((await mesh.collector.forRequest(forced, 4)).length, 4);
      assert.equal(mesh.collector.spans.filter((s) => s.requestId === zero).length, 0);
    } finally {
      await mesh.setTelemetry(undefined);
    }
  });

  test('malformed B3 headers: no span, and the headers go on as they came (Envoy\'s null span)', async () => {
    const id = rid('bad');
    await get('/details/0', { 'x-request-id': id, 'x-b3-traceid': 'not-hex', 'x-b3-spanid': CALLER_SPAN, 'x-b3-sampled': '1' });
    const h = receivedBy(id)!.headers;
    assert.equal(h['x-b3-traceid'], 'not-hex');
    assert.equal(h['x-b3-spanid'], CALLER_SPAN);
    const next = rid('next');
    await get('/details/0', { 'x-request-id': next });
    await mesh.collector.forRequest(next, 4);
    assert.equal(mesh.collector.spans.filter((s) => s.requestId === id).length, 0);
  });

  test('replies the proxy makes itself are traced with their flags: a fault abort (FI, error) and no route (NR)', async () => {
    const abortId = rid('abort');
    const r = await get('/abort/now', { 'x-request-id': abortId });
    assert.equal(r.status, 503);
    const [abort] = await mesh.collector.forRequest(abortId, 1);
    assert.deepEqual([abort.kind, abort.status, abort.responseFlags, abort.error, abort.name], ['CLIENT', 503, 'FI', true, 'details.bookinfo.svc.cluster.local:9080/abort*']);
    assert.equal(abort.upstreamHost, undefined); // it never left the sidecar
    const nrId = rid('nr');
    const nr = await get('/', { 'x-request-id': nrId }, 'nowhere.test:8080');
    assert.equal(nr.status, 404);
    const [span] = await mesh.collector.forRequest(nrId, 1);
    assert.deepEqual([span.status, span.responseFlags, span.error, span.name, span.parentId], [404, 'NR', false, 'nowhere.test:8080/*', undefined]);
  });

  test('a sampled request in flight while a new snapshot rebuilds the filter chains still yields its span', async () => {
    const id = rid('inflight');
    const held = mesh.ratingsApp.next();
    const response = viaProxy({ proxy: { address: RATINGS, port: 9080 }, url: '/hang', headers: { host: `${RATINGS}:9080`, 'x-request-id': id } });
    await held;
    await mesh.setTelemetry({ tracing: { samplingPercent: 1 } }); // a new version: every listener gets a new chain
    mesh.ratingsApp.held.splice(0).forEach((release) => release());
    assert.equal((await response).status, 200);
    const [span] = await mesh.collector.forRequest(id, 1);
    assert.deepEqual([span.kind, span.instance, span.status], ['SERVER', 'ratings-v1-0', 200]);
    await mesh.setTelemetry(undefined);
  });

  test('a request straight to an inbound listener: the SERVER span is named after the service behind the port', async () => {
    const id = rid('direct');
    const r = await viaProxy({ proxy: { address: RATINGS, port: 9080 }, url: '/ratings/1', headers: { host: `${RATINGS}:9080`, 'x-request-id': id } });
    assert.equal(r.status, 200);
    const [span] = await mesh.collector.forRequest(id, 1);
    assert.deepEqual([span.kind, span.name, span.parentId, span.service], ['SERVER', 'ratings.bookinfo.svc.cluster.local:9080/*', undefined, 'ratings']);
  });
});
