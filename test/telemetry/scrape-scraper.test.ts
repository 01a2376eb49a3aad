import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { PROXY_STATS_PORT, type WorkloadInstance } from '../../src/api/snapshot.js';
import { ControlPlane } from '../../src/controlplane/control-plane.js';
import type { InstantQueryResult } from '../../src/telemetry/metrics-source.js';
import { MetricsQueryError } from '../../src/telemetry/promql/errors.js';
import { PrometheusSource } from '../../src/telemetry/prometheus/prometheus-source.js';
import { ManualClock } from '../support/manual-clock.js';

// The control plane's scraper against real HTTP servers on loopback, on a manual clock: target
// labels, `up`, staleness, timeouts, malformed answers, targets leaving; and the Prometheus
// query API in front of the store (also through PrometheusSource, as a Prometheus client would).

const NET = '127.10.152';

interface Exporter {
  server: Server;
  body: string;
  status: number;
  hang: boolean;
  requests: number;
  held: Array<() => void>;
}

async function startExporter(address: string): Promise<Exporter> {
  const ex: Exporter = { server: undefined as unknown as Server, body: '', status: 200, hang: false, requests: 0, held: [] };
  ex.server = createServer((req, res) => {
    ex.requests++;
    if (req.url !== '/stats/prometheus') return res.writeHead(404).end();
    const answer = () => res.writeHead(ex.status, { 'content-type': 'text/plain; version=0.0.4' }).end(ex.body);
    if (ex.hang) ex.held.push(answer);
    else answer();
  });
  await new Promise<void>((r) => ex.server.listen(PROXY_STATS_PORT, address, r));
  return ex;
}

function instance(name: string, address: string, labels: Record<string, string>): WorkloadInstance {
  return { name, workload: name.replace(/-\d+$/, ''), namespace: 'shop', serviceAccount: 'default', labels, address, ports: [], healthy: true, source: 'registered' };
}

const counter = (n: number, extra = '') =>
  `# TYPE istio_requests_total counter\nistio_requests_total{reporter="destination",destination_service="cart.shop.svc.cluster.local",response_code="200"${extra}} ${n}\n`;

const clock = new ManualClock(1_700_000_000_000);
let cp: ControlPlane;
let a: Exporter;
let b: Exporter;
let viaApi: PrometheusSource;

before(async () => {
  a = await startExporter(`${NET}.1`);
  b = await startExporter(`${NET}.2`);
  cp = new ControlPlane({ host: `${NET}.100`, port: 0, clock, metrics: { scrapeIntervalMs: 1000 } });
  await cp.start();
  cp.registry.upsert(instance('cart-v1-0', `${NET}.1`, { app: 'cart', version: 'v1', 'service.istio.io/canonical-name': 'cart' }));
  cp.registry.upsert(instance('cart-v2-0', `${NET}.2`, { app: 'cart', version: 'v2' }));
  cp.registry.upsert(instance('ghost-0', `${NET}.3`, { app: 'ghost' })); // nothing listens there
  viaApi = new PrometheusSource({ url: cp.url });
});

after(async () => {
  await viaApi?.close();
  await cp?.stop();
  for (const ex of [a, b]) {
    for (const h of ex?.held.splice(0) ?? []) h();
    ex?.server.closeAllConnections();
    await new Promise((r) => ex?.server.close(r));
  }
});

async function round(): Promise<void> {
  clock.advance(1000);
  await cp.metrics.scraper.idle();
}

const values = (r: InstantQueryResult) => (r.resultType === 'vector' ? Object.fromEntries(r.result.map((s) => [s.metric.pod, s.value[1]])) : {});

test('scrape: every registered instance is scraped each second, with Istio addon target labels and up', async () => {
  a.body = counter(100);
  b.body = counter(50);
  await round();
  const up = await cp.metrics.source.query('up', clock.now());
  assert.deepEqual(values(up), { 'cart-v1-0': 1, 'cart-v2-0': 1, 'ghost-0': 0 });
  const series = await cp.metrics.source.query('istio_requests_total{pod="cart-v1-0"}', clock.now());
  assert.ok(series.resultType === 'vector');
  assert.deepEqual(series.result[0].metric, {
    __name__: 'istio_requests_total',
    reporter: 'destination',
    destination_service: 'cart.shop.svc.cluster.local',
    response_code: '200',
    // Target labels, as Istio's Prometheus addon (job kubernetes-pods) adds them:
    job: 'kubernetes-pods',
    instance: `${NET}.1:15090`,
    namespace: 'shop',
    pod: 'cart-v1-0',
    app: 'cart',
    version: 'v1',
    service_istio_io_canonical_name: 'cart',
  });
  assert.equal(values(await cp.metrics.source.query('scrape_samples_scraped', clock.now()))['cart-v1-0'], 1);
  const ghost = cp.metrics.scraper.targets().find((t) => t.labels.pod === 'ghost-0')!;
  assert.equal(ghost.health, 'down');
  assert.match(ghost.lastError, /ECONNREFUSED|connect/);
});

test('scrape: counters become rates; the query API answers in Prometheus JSON', async () => {
  for (let i = 1; i <= 10; i++) {
    a.body = counter(100 + 20 * i);
    b.body = counter(50 + 5 * i);
    await round();
  }
  const now = clock.now();
  const res = await request(`${cp.url}/api/v1/query?query=${encodeURIComponent('sum by (version) (rate(istio_requests_total[5s]))')}&time=${now / 1000}`);
  assert.equal(res.statusCode, 200);
  const body = (await res.body.json()) as any;
  assert.equal(body.status, 'success');
  assert.equal(body.data.resultType, 'vector');
  assert.deepEqual(
    body.data.result.map((s: any) => [s.metric, s.value]),
    [
      [{ version: 'v1' }, [now / 1000, '20']],
      [{ version: 'v2' }, [now / 1000, '5']],
    ],
  );
  // The same through a Prometheus client pointed at the control plane.
  const range = await viaApi.queryRange('sum(rate(istio_requests_total[5s]))', now - 2000, now, 1000);
  assert.deepEqual(range, { resultType: 'matrix', result: [{ metric: {}, values: [[(now - 2000) / 1000, 25], [(now - 1000) / 1000, 25], [now / 1000, 25]] }] });
  assert.deepEqual(await viaApi.labelValues('pod', ['istio_requests_total']), ['cart-v1-0', 'cart-v2-0']);
  const s = await viaApi.series(['up{app="ghost"}']);
  assert.equal(s.length, 1);
  assert.equal(s[0].instance, `${NET}.3:15090`);
  const targets = (await (await request(`${cp.url}/api/v1/targets`)).body.json()) as any;
  assert.deepEqual(targets.data.activeTargets.map((t: any) => [t.labels.pod, t.health]).sort(), [['cart-v1-0', 'up'], ['cart-v2-0', 'up'], ['ghost-0', 'down']]);
});

test('scrape: query errors come back typed, in Prometheus error format', async () => {
  const res = await request(`${cp.url}/api/v1/query?query=${encodeURIComponent('rate(up[5m:1m])')}`);
  assert.equal(res.statusCode, 400);
  assert.deepEqual(await res.body.json(), {
    status: 'error',
    errorType: 'bad_data',
    error: 'subqueries (`expr[range:step]`) are not supported',
    errorCode: 'E_PROMQL_UNSUPPORTED',
    feature: 'subquery',
  });
  const bad = await request(`${cp.url}/api/v1/query_range?query=up&start=abc&end=1&step=1`);
  assert.equal(bad.statusCode, 400);
  assert.equal(((await bad.body.json()) as any).errorCode, 'E_QUERY_PARAM');
  // PrometheusSource turns the answer back into the same typed error.
  await assert.rejects(
    new PrometheusSource({ url: cp.url, checkSubset: false }).query('x @ 100'),
    (e: unknown) => e instanceof MetricsQueryError && e.code === 'E_PROMQL_UNSUPPORTED' && e.feature === 'modifier:@',
  );
});

test('scrape: a series that leaves the exposition goes stale at once', async () => {
  a.body = counter(400) + counter(7, ',extra="x"').split('\n')[1] + '\n';
  await round();
  const extra = 'istio_requests_total{extra="x"}';
  assert.equal((await cp.metrics.source.query(extra, clock.now())).result.length, 1);
  a.body = counter(420);
  await round();
  assert.equal((await cp.metrics.source.query(extra, clock.now())).result.length, 0, 'stale: no 5-minute lookback');
});

test('scrape: a hung target times out on the clock; a malformed answer stores nothing; both count as down', async () => {
  a.hang = true;
  clock.advance(1000); // the scrape of a starts and hangs
  while (a.held.length === 0) await new Promise((r) => setTimeout(r, 5));
  clock.advance(1000); // its timeout (= the interval) fires; the round due now skips a (still busy)
  await cp.metrics.scraper.idle();
  const health = cp.metrics.scraper.targets().find((t) => t.labels.pod === 'cart-v1-0')!;
  assert.equal(health.health, 'down');
  assert.match(health.lastError, /deadline exceeded/);
  assert.equal(values(await cp.metrics.source.query('up', clock.now()))['cart-v1-0'], 0);
  assert.equal((await cp.metrics.source.query('istio_requests_total{pod="cart-v1-0"}', clock.now())).result.length, 0, 'a down target\'s series go stale');
  a.hang = false;
  for (const h of a.held.splice(0)) h();

  b.body = counter(1000) + 'garbage line here\n';
  await round();
  assert.equal(values(await cp.metrics.source.query('up', clock.now()))['cart-v2-0'], 0);
  const last = await cp.metrics.source.query('istio_requests_total{pod="cart-v2-0"}[2s]', clock.now());
  assert.ok(last.resultType === 'matrix');
  assert.ok(last.result.every((s) => s.values.every(([, v]) => v !== 1000)), 'nothing of the malformed scrape was stored');
  b.body = counter(1001);
  await round();
  assert.deepEqual(values(await cp.metrics.source.query('up', clock.now())), { 'cart-v1-0': 1, 'cart-v2-0': 1, 'ghost-0': 0 });
});

test('scrape: metric labels win over target labels (honor_labels), and a target that leaves goes stale', async () => {
  b.body = `istio_requests_total{pod="from-metric",response_code="200"} 3\n`;
  await round();
  const own = await cp.metrics.source.query('istio_requests_total{instance="127.10.152.2:15090"}', clock.now());
  assert.deepEqual(own.resultType === 'vector' && own.result.map((s) => s.metric.pod), ['from-metric']);
  cp.registry.remove('shop', 'ghost-0');
  await round();
  assert.deepEqual(Object.keys(values(await cp.metrics.source.query('up', clock.now()))).sort(), ['cart-v1-0', 'cart-v2-0']);
  assert.equal(cp.metrics.scraper.targets().length, 2);
});

test('scrape: after stop, no more scrapes', async () => {
  const before = a.requests;
  await cp.metrics.stop();
  clock.advance(5000);
  await new Promise((r) => setImmediate(r));
  assert.equal(a.requests, before);
});
