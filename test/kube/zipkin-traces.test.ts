import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { traceSignals } from '../../src/diagnosis/signals/trace-signals.js';
import { KubeClient } from '../../src/platform/kube/kube-client.js';
import { KubeController } from '../../src/platform/kube/kube-controller.js';
import { loadKubeConfig } from '../../src/platform/kube/kubeconfig.js';
import { TraceQueryError, ZipkinTraceSource } from '../../src/platform/kube/zipkin-traces.js';
import { DEFAULT_SETTINGS } from '../../src/recovery/settings.js';
import { ManualClock } from '../support/manual-clock.js';
import { runCliAsync } from './cli-async.js';
import { startRecordedApiServer, type RecordedApiServer } from './recorded-api-server.js';

// Traces on a cluster from a Zipkin query API (--traces URL): a real HTTP server answers
// GET /api/v2/traces (endTs, lookback, limit) with Zipkin v2 JSON shaped as Envoy reports it
// under Istio (test/kube/fixtures/zipkin/traces.json: Bookinfo, two traces where ratings
// answers 500 through reviews, one fine trace, and one span no sidecar recorded). The spans
// become meshmedic's spans; diagnosis's trace signals name ratings as the failing culprit; the
// controller fetches the traces of the SLO window and baseline each round.

const fixture = fileURLToPath(new URL('../../../test/kube/fixtures/zipkin/traces.json', import.meta.url));
const traces = JSON.parse(readFileSync(fixture, 'utf8')) as Array<Array<Record<string, any>>>;
const BASE_MS = 1764151200000; // the fixture's spans start 20-40 s after this
let server: http.Server;
let url: string;
const queries: URLSearchParams[] = [];
let api: RecordedApiServer;
let dir: string;

before(async () => {
  server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname !== '/api/v2/traces') {
      res.writeHead(404).end();
      return;
    }
    queries.push(u.searchParams);
    // Zipkin's semantics: traces with a span in [endTs - lookback, endTs] (ms), newest first, at most limit.
    const end = Number(u.searchParams.get('endTs'));
    const from = end - Number(u.searchParams.get('lookback'));
    const hits = traces.filter((t) => t.some((s) => s.timestamp / 1000 >= from && s.timestamp / 1000 <= end)).sort((a, b) => b[0].timestamp - a[0].timestamp);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(hits.slice(0, Number(u.searchParams.get('limit') ?? 10))));
  });
  await new Promise<void>((r) => server.listen(0, '127.10.40.7', r));
  url = `http://127.10.40.7:${(server.address() as AddressInfo).port}`;
  api = await startRecordedApiServer('127.10.40.8');
  dir = mkdtempSync(join(tmpdir(), 'mm-kube-zipkin-'));
});
after(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('Zipkin v2 spans as meshmedic spans; diagnosis finds the failing service in them', async () => {
  const source = new ZipkinTraceSource({ url: `${url}/`, clock: { now: () => BASE_MS + 60_000 } });
  assert.equal(await source.refresh(BASE_MS, BASE_MS + 60_000), 13, 'every span Envoy recorded');
  assert.equal(source.invalid, 1, 'the span no sidecar recorded is left out');
  const q = queries[queries.length - 1];
  assert.deepEqual([q.get('endTs'), q.get('lookback'), q.get('limit')], [String(BASE_MS + 60_000), '60000', '300']);
  assert.equal(await source.refresh(BASE_MS, BASE_MS + 60_000), 0, 'a second refresh adds nothing twice');

  const recent = source.recent({});
  assert.equal(recent.length, 3);
  assert.ok(recent.some((t) => t.traceId === '000000000000000000f067aa0ba902b7'), 'a 64-bit trace id is left-padded');
  const view = source.trace('4bf92f3577b34da6a3ce929d0e0e4736')!;
  assert.equal(view.error, true);
  assert.deepEqual(view.services, ['productpage.bookinfo', 'ratings.bookinfo', 'reviews.bookinfo']);
  let leaf = view.roots[0];
  while (leaf.children.length) leaf = leaf.children[0];
  assert.deepEqual(
    { service: leaf.service, version: leaf.version, workload: leaf.workload, instance: leaf.instance, namespace: leaf.namespace, kind: leaf.kind, status: leaf.status, error: leaf.error, startMs: leaf.startMs, durationMs: leaf.durationMs },
    { service: 'ratings', version: 'v1', workload: 'ratings-v1', instance: 'ratings-v1-7dc98c7588-2tqnb', namespace: 'bookinfo', kind: 'SERVER', status: 500, error: true, startMs: BASE_MS + 30_004.7, durationMs: 39.8 },
  );
  assert.equal(view.roots[0].children[0].upstreamCluster, 'outbound|9080||reviews.bookinfo.svc.cluster.local');

  // Diagnosis's trace signals over this source: ratings failed with healthy calls below it, twice.
  const signals = traceSignals(source, { startMs: BASE_MS + 10_000, endMs: BASE_MS + 60_000 }, { startMs: BASE_MS, endMs: BASE_MS + 10_000 })!;
  assert.equal(signals.errorTraces, 2);
  assert.deepEqual({ ...signals.culprits[0], slowTraces: undefined, baselineSlowTraces: undefined }, { service: 'ratings', namespace: 'bookinfo', workload: 'ratings-v1', instance: 'ratings-v1-7dc98c7588-2tqnb', errorTraces: 2, slowTraces: undefined, baselineSlowTraces: undefined });

  // An unreachable query API is a typed error.
  await assert.rejects(new ZipkinTraceSource({ url: 'http://127.10.40.7:1' }).refresh(0, 1000), (e: unknown) => e instanceof TraceQueryError && e.code === 'E_TRACES_QUERY');
  // --traces is a kube option with a URL: one line, exit 64.
  const local = await runCliAsync(['status', '--traces', url]);
  assert.equal(local.code, 64);
  assert.match(local.stderr, /^Error: --traces goes with --platform kube/);
  const bad = await runCliAsync(['analyze', '--platform', 'kube', '--kubeconfig', api.kubeconfig, '--prometheus', 'http://127.10.40.7:1', '--traces', 'zipkin:9411']);
  assert.equal(bad.code, 64);
  assert.match(bad.stderr, /^Error: --traces "zipkin:9411": want a URL/);
});

test('the controller fetches the traces of the SLO window and baseline every round', async () => {
  const clock = new ManualClock(BASE_MS + 61_000);
  const source = new ZipkinTraceSource({ url, clock });
  const controller = new KubeController(new KubeClient(loadKubeConfig({ kubeconfig: api.kubeconfig })), {
    databaseFile: join(dir, 'meshmedic.db'), traces: source, causes: [], auto: false, intervalMs: 1000, clock, settings: DEFAULT_SETTINGS,
  });
  try {
    await controller.start();
    const before = queries.length;
    await controller.tick();
    assert.equal(queries.length, before + 1);
    const q = queries[queries.length - 1];
    // The default SLO: a 5 s window and a 60 s baseline, plus one interval.
    assert.deepEqual([q.get('endTs'), q.get('lookback')], [String(BASE_MS + 61_000), '66000']);
    assert.equal(source.recent({}).length, 3);
  } finally {
    await controller.stop();
  }
});
