import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Pool } from 'undici';
import type { OtlpTraceRequest } from '../../src/telemetry/tracing/otlp-json.js';
import type { SpanNode, TraceSummary, TraceView } from '../../src/telemetry/tracing/trace-source.js';
import { flattenTree } from '../../src/telemetry/tracing/trace-tree.js';
import { meshHome } from './mesh-home.js';

// Bookinfo on the local mesh, traced: one productpage request yields the spans of productpage,
// details, reviews and ratings with correct parent links, read back with `meshmedic trace`,
// and the same spans reach an OTLP collector (a real HTTP server on loopback) given to
// `meshmedic up --otlp-endpoint`.

const mesh = meshHome('trace', '127.14');
const { home, cli } = mesh;
const COLLECTOR_HOST = '127.10.132.1';

let productpage: Pool;
let collector: Server;
const exported: OtlpTraceRequest[] = [];

/** Every span the collector received, with its resource's service.name. */
function collected(): Array<{ service: string; instance: string; kind: number; traceId: string; spanId: string; parentSpanId?: string; requestId?: string }> {
  const attr = (list: Array<{ key: string; value: unknown }>, key: string) => (list.find((a) => a.key === key)?.value as { stringValue?: string } | undefined)?.stringValue ?? '';
  return exported.flatMap((req) =>
    req.resourceSpans.flatMap((rs) => {
      const service = attr(rs.resource.attributes, 'service.name');
      const instance = attr(rs.resource.attributes, 'service.instance.id');
      return rs.scopeSpans.flatMap((ss) =>
        ss.spans.map((s) => ({ service, instance, kind: s.kind, traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId, requestId: attr(s.attributes, 'guid:x-request-id') })),
      );
    }),
  );
}

/** Polls until `check` returns a value (spans reach the control plane in 1 s batches); no timing is asserted. */
async function eventually<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not there after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function traceWith(id: string, spans: number): Promise<TraceView> {
  return eventually(`trace ${id} with ${spans} spans`, () => {
    const r = cli(['trace', id, '-o', 'json']);
    if (r.code !== 0) return undefined;
    const view = JSON.parse(r.stdout) as TraceView;
    return view.spanCount >= spans ? view : undefined;
  });
}

const spanOf = (nodes: SpanNode[], instancePrefix: string, kind: SpanNode['kind']) => {
  const found = nodes.filter((n) => n.instance.startsWith(instancePrefix) && n.kind === kind);
  assert.equal(found.length, 1, `${instancePrefix} ${kind} in ${nodes.map((n) => `${n.instance}/${n.kind}`).join(' ')}`);
  return found[0];
};

describe('tracing bookinfo on the local mesh', { timeout: 180_000 }, () => {
  before(async () => {
    collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/v1/traces') exported.push(JSON.parse(Buffer.concat(chunks).toString()) as OtlpTraceRequest);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, COLLECTOR_HOST, r));
    const otlp = `http://${COLLECTOR_HOST}:${(collector.address() as { port: number }).port}`;
    const up = cli(['up', '-f', 'examples/bookinfo', '--timeout', '90', '--otlp-endpoint', otlp]);
    assert.equal(up.code, 0, `up failed:\n${up.stdout}\n${up.stderr}`);
    const status = JSON.parse(cli(['status', '-o', 'json']).stdout) as { instances: Array<{ name: string; address: string }> };
    const pp = status.instances.find((i) => i.name === 'productpage-v1-0')!;
    assert.match(pp.address, /^127\.14\./);
    productpage = new Pool(`http://${pp.address}:9080`, { connections: 2 });
  });

  after(async () => {
    await productpage?.close();
    await new Promise((r) => collector?.close(r));
    mesh.teardown();
  });

  test('one productpage request: spans of productpage, details, reviews and ratings, each under its caller', async () => {
    const traceId = '80f198ee56343ba864fe8b2a57d3eff7';
    const callerSpan = 'e457b5a2e4d86bd1';
    // jason is routed to reviews v2, which calls ratings (the shipped VirtualService).
    const res = await productpage.request({ method: 'GET', path: '/productpage', headers: { 'end-user': 'jason', 'x-b3-traceid': traceId, 'x-b3-spanid': callerSpan, 'x-b3-sampled': '1' } });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    const view = await traceWith(traceId, 7);
    assert.equal(view.spanCount, 7);
    assert.equal(view.roots.length, 1);
    const all = flattenTree(view.roots).map((x) => x.node);
    const ppServer = view.roots[0];
    assert.deepEqual([ppServer.service, ppServer.kind, ppServer.parentId], ['productpage', 'SERVER', callerSpan]);
    const toDetails = all.find((n) => n.instance.startsWith('productpage') && n.kind === 'CLIENT' && n.name.startsWith('details.'))!;
    const toReviews = all.find((n) => n.instance.startsWith('productpage') && n.kind === 'CLIENT' && n.name.startsWith('reviews.'))!;
    assert.ok(toDetails && toReviews, all.map((n) => n.name).join(' '));
    const details = spanOf(all, 'details', 'SERVER');
    const reviews = spanOf(all, 'reviews', 'SERVER');
    const reviewsToRatings = spanOf(all, 'reviews', 'CLIENT');
    const ratings = spanOf(all, 'ratings', 'SERVER');
    // Parent links across sidecars and across the applications (which forward the headers).
    assert.equal(toDetails.parentId, ppServer.spanId);
    assert.equal(toReviews.parentId, ppServer.spanId);
    assert.equal(details.parentId, toDetails.spanId);
    assert.equal(reviews.parentId, toReviews.spanId);
    assert.equal(reviewsToRatings.parentId, reviews.spanId);
    assert.equal(ratings.parentId, reviewsToRatings.spanId);
    assert.equal(reviews.instance, 'reviews-v2-0');
    assert.deepEqual(ppServer.children.map((c) => c.spanId).sort(), [toDetails.spanId, toReviews.spanId].sort());
    // Istio's names and Envoy's tags.
    assert.equal(toDetails.name, 'details.bookinfo.svc.cluster.local:9080/*');
    assert.equal(toReviews.name, 'reviews.bookinfo.svc.cluster.local:9080/*');
    assert.equal(toReviews.upstreamCluster, 'outbound|9080|v2|reviews.bookinfo.svc.cluster.local');
    assert.equal(reviewsToRatings.upstreamCluster, 'outbound|9080|v1|ratings.bookinfo.svc.cluster.local');
    assert.equal(ratings.name, reviewsToRatings.name);
    for (const s of all) {
      assert.equal(s.traceId, traceId);
      assert.equal(s.status, 200);
      assert.equal(s.responseFlags, '-');
      assert.equal(s.namespace, 'bookinfo');
    }
    assert.equal(new Set(all.map((s) => s.requestId)).size, 1, 'one x-request-id across the whole trace');
    assert.deepEqual(view.services, ['details.bookinfo', 'productpage.bookinfo', 'ratings.bookinfo', 'reviews.bookinfo']);
  });

  test('`meshmedic trace ID` draws the tree; `--service` lists the trace', () => {
    const traceId = '80f198ee56343ba864fe8b2a57d3eff7';
    const r = cli(['trace', traceId]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Trace 80f198ee56343ba864fe8b2a57d3eff7: 7 span\(s\), 4 service\(s\)/);
    const lines = r.stdout.split('\n');
    assert.match(lines[2], /^SPAN\s+SERVICE\s+INSTANCE\s+KIND\s+STATUS\s+FLAGS\s+DURATION\s+START/);
    assert.match(lines[3], /^productpage\.bookinfo\.svc\.cluster\.local:9080\/\*\s+productpage\.bookinfo\s+productpage-v1-0\s+server\s+200\s+-/);
    // productpage -> reviews -> ratings: the ratings server span is four levels down, last of its line.
    assert.ok(lines.some((l) => /^ {9}└─ ratings\.bookinfo\.svc\.cluster\.local:9080\/\*\s+ratings\.bookinfo\s+ratings-v1-0\s+server\s+200\s/.test(l)), r.stdout);
    assert.ok(lines.some((l) => /^├─ details\.bookinfo\.svc\.cluster\.local:9080\/\*\s+productpage\.bookinfo\s+productpage-v1-0\s+client/.test(l)), r.stdout);
    const list = cli(['trace', '--service', 'ratings', '-n', 'bookinfo', '-o', 'json']);
    assert.equal(list.code, 0, list.stderr);
    assert.ok((JSON.parse(list.stdout) as TraceSummary[]).some((t) => t.traceId === traceId && t.root.service === 'productpage'));
    const missing = cli(['trace', '0'.repeat(31) + '1']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /E_TRACE_NOT_FOUND/);
    assert.equal(cli(['trace']).code, 64);
  });

  test('x-envoy-force-trace starts a trace at productpage\'s sidecar; its spans reach the OTLP collector', async () => {
    const requestId = 'e2e-forced-0001';
    const res = await productpage.request({ method: 'GET', path: '/productpage', headers: { 'x-envoy-force-trace': 'true', 'x-request-id': requestId } });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    // reviews v1 calls no one (5 spans), v3 calls ratings (7 spans).
    const spans = await eventually('forced spans at the collector', () => {
      const mine = collected().filter((s) => s.requestId === requestId);
      const reviews = mine.find((s) => s.service === 'reviews.bookinfo' && s.kind === 2 /* SERVER */);
      return reviews && mine.length >= (reviews.instance.startsWith('reviews-v1') ? 5 : 7) ? mine : undefined;
    });
    assert.equal(new Set(spans.map((s) => s.traceId)).size, 1);
    const root = spans.filter((s) => s.parentSpanId === undefined);
    assert.deepEqual(root.map((s) => s.service), ['productpage.bookinfo']);
    for (const s of spans) if (s.parentSpanId !== undefined) assert.ok(spans.some((p) => p.spanId === s.parentSpanId), `parent of ${s.service} ${s.spanId} exported`);
    assert.ok(['details.bookinfo', 'reviews.bookinfo'].every((svc) => spans.some((s) => s.service === svc)));
    const view = await traceWith(spans[0].traceId, spans.length);
    assert.equal(view.roots[0].service, 'productpage');
  });

  test('a Telemetry resource with randomSamplingPercentage 100 traces every request without any header', async () => {
    const file = join(home, 'telemetry.yaml');
    writeFileSync(file, 'apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: mesh-default, namespace: istio-system}\nspec:\n  tracing:\n  - randomSamplingPercentage: 100\n');
    const applied = cli(['apply', '-f', file]);
    assert.equal(applied.code, 0, applied.stderr);
    // Config reaches the sidecars shortly after apply: requests go on until one is traced end to end.
    let spans: ReturnType<typeof collected> = [];
    for (let attempt = 1; attempt <= 10 && spans.length === 0; attempt++) {
      const requestId = `e2e-telemetry-${attempt}`; // not hex: never sampled at 1% by request id
      const res = await productpage.request({ method: 'GET', path: '/productpage', headers: { 'x-request-id': requestId } });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
      spans = await eventually('spans of the request', () => {
        const mine = collected().filter((s) => s.requestId === requestId);
        return mine.some((s) => s.service === 'details.bookinfo') ? mine : undefined;
      }, 4_000).catch(() => []);
    }
    assert.ok(spans.some((s) => s.service === 'productpage.bookinfo' && s.parentSpanId === undefined), JSON.stringify(spans));
    assert.ok(spans.some((s) => s.service === 'reviews.bookinfo'));
  });
});
