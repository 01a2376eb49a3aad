import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { ControlPlane } from '../../src/controlplane/control-plane.js';
import { Sidecar } from '../../src/proxy/sidecar.js';
import { otlpTracesUrl } from '../../src/telemetry/tracing/otlp-exporter.js';
import type { OtlpTraceRequest } from '../../src/telemetry/tracing/otlp-json.js';
import type { Span } from '../../src/telemetry/tracing/span.js';
import { SpanReporter } from '../../src/telemetry/tracing/span-reporter.js';
import type { TraceSummary, TraceView } from '../../src/telemetry/tracing/trace-source.js';
import { assignment, cluster, endpoint, outboundSnapshot, startUpstream, testNode, viaProxy, type Upstream } from '../proxy/helpers.js';
import { ManualClock } from '../support/manual-clock.js';

// Spans from a real sidecar, through its reporter, into a real control plane (the trace API),
// and out to an OTLP/HTTP collector: a real HTTP server on loopback that records what it gets.

const NET = '127.10.131';
const CP_HOST = `${NET}.1`;
const COLLECTOR = `${NET}.2`;
const PROXY = `${NET}.3`;
const UPSTREAM = `${NET}.4`;
const CLUSTER = 'outbound|8080||echo.test.svc.cluster.local';

interface Collector {
  server: Server;
  url: string;
  requests: Array<{ path: string; contentType: string; body: OtlpTraceRequest }>;
  /** Status the collector answers with (200 by default). */
  status: number;
}

async function startCollector(): Promise<Collector> {
  const c = { requests: [], status: 200 } as unknown as Collector;
  c.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      c.requests.push({ path: req.url ?? '', contentType: String(req.headers['content-type']), body: JSON.parse(Buffer.concat(chunks).toString()) as OtlpTraceRequest });
      res.writeHead(c.status, { 'content-type': 'application/json' });
      res.end(c.status === 200 ? '{}' : '{"code":13}');
    });
  });
  await new Promise<void>((r) => c.server.listen(0, COLLECTOR, r));
  c.url = `http://${COLLECTOR}:${(c.server.address() as { port: number }).port}`;
  return c;
}

async function api<T>(cp: ControlPlane, path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${cp.url}${path}`);
  return { status: res.status, body: (await res.json()) as T };
}

describe('span reporting, the trace API and OTLP export', { timeout: 60_000 }, () => {
  let collector: Collector;
  let cp: ControlPlane;
  let upstream: Upstream;
  let sidecar: Sidecar;
  let reporter: SpanReporter;
  const clock = new ManualClock(1_700_000_000_000);

  before(async () => {
    collector = await startCollector();
    cp = new ControlPlane({ host: CP_HOST, tracing: { otlpEndpoint: collector.url } });
    await cp.start();
    upstream = await startUpstream('echo', { address: UPSTREAM, port: 8080 });
    reporter = new SpanReporter({ controlPlaneUrl: cp.url, clock, batchSize: 2 });
    reporter.start();
    sidecar = new Sidecar({ clock, spanSink: reporter, node: testNode(PROXY) });
    const snap = outboundSnapshot('1', testNode(PROXY), {
      routes: [{ name: 'outbound_http', virtualHosts: [{ name: 'echo', domains: ['echo.test:8080'], routes: [{ name: 'r', match: [], action: { kind: 'route', destinations: [{ cluster: CLUSTER, weight: 100 }] } }] }] }],
      clusters: [cluster(CLUSTER)],
      endpoints: [assignment(CLUSTER, [endpoint(UPSTREAM, 8080)])],
    });
    assert.deepEqual(sidecar.applySnapshot(snap), { ok: true });
    await sidecar.settled();
  });

  after(async () => {
    await sidecar?.stop(0);
    await reporter?.stop();
    await upstream?.close();
    await cp?.stop();
    await new Promise((r) => collector?.server.close(r));
  });

  test('a sidecar\'s spans reach the control plane in a batch (timer on the injected clock) and come back as a trace', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const r = await viaProxy({ proxy: { address: PROXY, port: 15001 }, url: 'http://echo.test:8080/hello', headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } });
    assert.equal(r.status, 200);
    // The span waits in the buffer until the flush timer fires (1 s on the manual clock).
    while (reporter.buffered === 0) await new Promise((resolve) => setImmediate(resolve)); // the stream completes after the response
    assert.equal(reporter.buffered, 1);
    assert.equal(clock.pending > 0, true);
    assert.equal((await api(cp, `/api/v1/traces/${traceId}`)).status, 404);
    clock.advance(1000);
    await reporter.flush(); // the send the timer started
    assert.deepEqual(reporter.counts, { sent: 1, dropped: 0, failed: 0 });
    const { status, body } = await api<TraceView>(cp, `/api/v1/traces/${traceId}`);
    assert.equal(status, 200);
    assert.equal(body.spanCount, 1);
    assert.deepEqual([body.roots[0].kind, body.roots[0].parentId, body.roots[0].service, body.roots[0].status, body.roots[0].name], ['CLIENT', 'b7ad6b7169203331', 'productpage', 200, 'echo.test.svc.cluster.local:8080/*']);
    assert.equal(sidecar.stats.get('http.downstream_rq_total'), 1);
  });

  test('GET /api/v1/traces lists recent traces of a service; bad ids and limits are 400, unknown ids 404', async () => {
    const list = await api<{ traces: TraceSummary[]; stats: { traces: number } }>(cp, '/api/v1/traces?service=productpage&namespace=bookinfo');
    assert.equal(list.status, 200);
    assert.equal(list.body.traces.length, 1);
    assert.equal(list.body.traces[0].root.service, 'productpage');
    assert.equal(list.body.stats.traces, 1);
    assert.deepEqual((await api<{ traces: unknown[] }>(cp, '/api/v1/traces?service=nobody')).body.traces, []);
    const bad = await api<{ error: { code: string } }>(cp, '/api/v1/traces/not-an-id');
    assert.deepEqual([bad.status, bad.body.error.code], [400, 'E_BAD_TRACE_ID']);
    assert.equal((await api(cp, '/api/v1/traces?limit=0')).status, 400);
    const missing = await api<{ error: { code: string } }>(cp, `/api/v1/traces/${'1'.repeat(32)}`);
    assert.deepEqual([missing.status, missing.body.error.code], [404, 'E_TRACE_NOT_FOUND']);
  });

  test('a batch with a damaged span keeps the good ones and says what was wrong', async () => {
    const good: Span = { ...sample(), spanId: '1111111111111111' };
    const res = await fetch(`${cp.url}/api/v1/spans`, { method: 'POST', body: JSON.stringify([good, { ...good, spanId: 'nope' }]) });
    assert.equal(res.status, 202);
    const out = (await res.json()) as { accepted: number; rejected: number; problem: string };
    assert.deepEqual([out.accepted, out.rejected], [1, 1]);
    assert.match(out.problem, /spanId/);
    const notArray = await fetch(`${cp.url}/api/v1/spans`, { method: 'POST', body: '{"x":1}' });
    assert.equal(notArray.status, 400);
  });

  test('OTLP/HTTP JSON reaches the collector: one resource per instance, ids in hex, kinds and times as OTLP wants', async () => {
    await cp.traces.exporter!.flush();
    const spans = collector.requests.flatMap((r) => r.body.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => ({ resource: rs.resource, scope: ss.scope, span: s, req: r })))));
    const fromProxy = spans.find((x) => x.span.traceId === '0af7651916cd43dd8448eb211c80319c')!;
    assert.ok(fromProxy, JSON.stringify(collector.requests));
    assert.equal(fromProxy.req.path, '/v1/traces');
    assert.equal(fromProxy.req.contentType, 'application/json');
    const attrs = Object.fromEntries(fromProxy.resource.attributes.map((a) => [a.key, a.value]));
    assert.deepEqual(attrs['service.name'], { stringValue: 'productpage.bookinfo' });
    assert.deepEqual(attrs['k8s.namespace.name'], { stringValue: 'bookinfo' });
    assert.equal(fromProxy.scope.name, 'meshmedic-proxy');
    const s = fromProxy.span;
    assert.equal(s.parentSpanId, 'b7ad6b7169203331');
    assert.match(s.spanId, /^[0-9a-f]{16}$/);
    assert.equal(s.kind, 3); // SPAN_KIND_CLIENT
    assert.match(s.startTimeUnixNano, /^\d+000000$/);
    assert.ok(BigInt(s.endTimeUnixNano) >= BigInt(s.startTimeUnixNano));
    const tags = Object.fromEntries(s.attributes.map((a) => [a.key, a.value]));
    assert.deepEqual(tags['http.status_code'], { intValue: '200' });
    assert.deepEqual(tags['upstream_cluster'], { stringValue: CLUSTER });
    assert.deepEqual(tags['component'], { stringValue: 'proxy' });
    assert.deepEqual(s.status, { code: 0 });
    const damaged = spans.find((x) => x.span.spanId === '1111111111111111')!;
    assert.deepEqual(damaged.span.status, { code: 2, message: 'HTTP 503' });
    assert.deepEqual(Object.fromEntries(damaged.span.attributes.map((a) => [a.key, a.value])).error, { boolValue: true });
    assert.equal(damaged.span.kind, 2); // SPAN_KIND_SERVER
    assert.equal(cp.traces.status().otlp?.exported, 2);
  });

  test('a collector that fails or is gone costs the batch, counted, never an error upstream', async () => {
    collector.status = 500;
    const res = await fetch(`${cp.url}/api/v1/spans`, { method: 'POST', body: JSON.stringify([{ ...sample(), spanId: '2222222222222222' }]) });
    assert.equal(res.status, 202);
    await cp.traces.exporter!.flush();
    const st = cp.traces.status().otlp!;
    assert.deepEqual([st.failed, st.queued], [1, 0]);
    assert.match(st.lastError ?? '', /HTTP 500/);
    collector.status = 200;
  });
});

describe('span reporter bounds', () => {
  test('a full buffer drops and counts; a batch the control plane refuses is dropped and counted', async () => {
    const clock = new ManualClock();
    const sent: string[] = [];
    let fail = false;
    const reporter = new SpanReporter({
      controlPlaneUrl: 'http://127.10.131.9:1', clock, maxBuffered: 3, batchSize: 100,
      send: async (_url, body) => {
        if (fail) throw new Error('connection refused');
        sent.push(body);
      },
    });
    for (let i = 0; i < 5; i++) reporter.add(sample());
    assert.deepEqual([reporter.buffered, reporter.counts.dropped], [3, 2]);
    await reporter.flush();
    assert.equal((JSON.parse(sent[0]) as Span[]).length, 3);
    fail = true;
    reporter.add(sample());
    await reporter.flush();
    assert.deepEqual(reporter.counts, { sent: 3, dropped: 2, failed: 1 });
    assert.equal(reporter.buffered, 0);
  });

  test('reaching the batch size schedules a send at once, on the injected clock', async () => {
    const clock = new ManualClock();
    let sends = 0;
    const reporter = new SpanReporter({ controlPlaneUrl: 'http://x', clock, batchSize: 2, send: async () => void sends++ });
    reporter.add(sample());
    assert.equal(clock.pending, 0);
    reporter.add(sample());
    assert.deepEqual(clock.scheduled, [0]);
    clock.advance(0);
    await reporter.flush();
    assert.equal(sends, 1);
    await reporter.stop();
  });

  test('the OTLP endpoint: a base URL gets /v1/traces, a full URL is kept, anything else is refused', () => {
    assert.equal(otlpTracesUrl('http://127.0.0.1:4318'), 'http://127.0.0.1:4318/v1/traces');
    assert.equal(otlpTracesUrl('https://otel.example/custom/traces'), 'https://otel.example/custom/traces');
    assert.throws(() => otlpTracesUrl('grpc://127.0.0.1:4317'), /http/);
    assert.throws(() => otlpTracesUrl('not a url'));
  });
});

function sample(): Span {
  return {
    traceId: '5b8aa5a2d2c872e8321cf37308d69df2', spanId: '051581bf3cb55c13', name: 'ratings.bookinfo.svc.cluster.local:9080/*', kind: 'SERVER',
    startMs: 1_700_000_000_000.5, durationMs: 2.25, service: 'ratings', version: 'v1', workload: 'ratings-v1', namespace: 'bookinfo', instance: 'ratings-v1-0',
    method: 'GET', url: 'http://ratings:9080/ratings/0', protocol: 'HTTP/1.1', requestId: 'r-1', status: 503, responseFlags: 'UF', requestBytes: 0, responseBytes: 19, error: true, component: 'proxy',
  };
}
