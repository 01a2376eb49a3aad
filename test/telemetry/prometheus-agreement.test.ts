import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { WorkloadInstance } from '../../src/api/snapshot.js';
import { ControlPlane } from '../../src/controlplane/control-plane.js';
import type { InstantQueryResult, RangeSeries } from '../../src/telemetry/metrics-source.js';
import { PrometheusSource } from '../../src/telemetry/prometheus/prometheus-source.js';
import { targetForInstance } from '../../src/telemetry/scrape/targets.js';
import { startFixtureExporter, TICK_MS, type FixtureExporter, type FixtureService } from './prometheus-fixture-exporter.js';
import { startBookinfo, type BookinfoMesh } from './prometheus-mesh-fixture.js';
import { ensurePrometheusInstalled, prometheusConfig, startPrometheus, type PrometheusServer } from './prometheus-server-fixture.js';

// The same PromQL answered by a real Prometheus (Debian's package, installed when missing) and
// by the embedded store, both scraping the same targets every second: (1) exporters serving
// Istio-format metrics with known, bursty traffic; (2) the real sidecars of bookinfo on the
// local mesh under load, with a fault injected. The embedded side is always queried through a
// control plane's HTTP API, as a Prometheus client would.
//
// Tolerances, and why. Both sides extrapolate by the same rules, so what differs is the scrape
// phase: Prometheus scrapes each target at its own offset within the second, our scraper at its
// own; over a window W their first and last samples are up to 1 s apart. Two windows of equal
// length shifted by less than 1 s count differently at most the requests of a 1 s slice at each
// end.
// (1) The exporters' traffic comes in 100 ms ticks of m-v..m+v requests, so counts differ by at
//     most 2 x 10 ticks x 2v: 3.3% of a 30 s window for the services below. We allow 5% (12% for
//     10 s windows, bound 10%); the error ratio moves by at most those counts over the window's
//     requests (0.03 absolute); quantiles, interpolated in buckets holding a quarter or more of
//     the requests, 10%.
// (2) Real traffic is burstier: we take 1 s to hold up to 1.5x the mean rate, so rates over 30 s
//     may differ by 2 x 1.5 / 30 = 10%, the error ratio by 0.03, and a quantile by the same
//     share of the ranks: Prometheus's q-0.1 and q+0.1 quantiles must bracket our q quantile
//     (and the other way round) - a classic histogram only knows buckets, and a few requests
//     can move a p99 across a bucket bound.
// The differences actually seen are printed as each test's diagnostics.

const PROM_LISTEN = '127.10.150.1:9090';
const NET = '127.10.151';

const services: FixtureService[] = [
  { service: 'details.fixture.svc.cluster.local', workload: 'details-v1', namespace: 'fixture', version: 'v1', meanPerTick: 4, spread: 2, errorRatio: 0, latency: { 5: 0.4, 10: 0.6 } },
  { service: 'reviews.fixture.svc.cluster.local', workload: 'reviews-v1', namespace: 'fixture', version: 'v1', meanPerTick: 6, spread: 3, errorRatio: 0.1, latency: { 10: 0.25, 25: 0.5, 250: 0.25 } },
  { service: 'ratings.fixture.svc.cluster.local', workload: 'ratings-v1', namespace: 'fixture', version: 'v1', meanPerTick: 8, spread: 4, errorRatio: 0.25, latency: { 1: 0.25, 5: 0.35, 50: 0.3, 1000: 0.1 } },
];

let exporters: FixtureExporter[] = [];
let cp: ControlPlane | undefined;
let mesh: BookinfoMesh | undefined;
let server: PrometheusServer | undefined;
let prom: PrometheusSource;
let embedded: PrometheusSource;
let meshEmbedded: PrometheusSource;

function exporterInstance(s: FixtureService, i: number): WorkloadInstance {
  const app = s.service.split('.')[0];
  return { name: `${s.workload}-0`, workload: s.workload, namespace: s.namespace, serviceAccount: 'default', labels: { app, version: s.version }, address: `${NET}.${i + 1}`, ports: [], healthy: true, source: 'registered' };
}

/** The labels Prometheus's own static config must give a target: those of Istio's addon relabelling, without job and instance (Prometheus sets those). */
function staticLabels(inst: WorkloadInstance): Record<string, string> {
  const { job: _job, instance: _instance, ...labels } = targetForInstance(inst).labels;
  return labels;
}

before(async () => {
  ensurePrometheusInstalled();
  exporters = await Promise.all(services.map((s, i) => startFixtureExporter(`${NET}.${i + 1}`, s, i)));
  cp = new ControlPlane({ host: '127.10.150.2', port: 0, metrics: { scrapeIntervalMs: 1000 } });
  await cp.start();
  const fixtureInstances = services.map(exporterInstance);
  for (const inst of fixtureInstances) cp.registry.upsert(inst);
  mesh = await startBookinfo();
  // Hand-written for the exporters (what the addon's relabelling gives a pod), derived for the sidecars.
  const targets = [
    ...fixtureInstances.map((inst) => ({ address: `${inst.address}:15090`, labels: { namespace: 'fixture', pod: inst.name, app: inst.labels.app, version: inst.labels.version } })),
    ...mesh.instances.map((inst) => ({ address: `${inst.address}:15090`, labels: staticLabels(inst) })),
  ];
  server = await startPrometheus(PROM_LISTEN, prometheusConfig(targets));
  prom = new PrometheusSource({ url: server.url });
  embedded = new PrometheusSource({ url: cp.url });
  meshEmbedded = new PrometheusSource({ url: mesh.controlPlaneUrl, ...(mesh.controlPlaneToken && { headers: { authorization: `Bearer ${mesh.controlPlaneToken}` } }) });
});

after(async () => {
  await Promise.all([prom?.close(), embedded?.close(), meshEmbedded?.close()]);
  await server?.stop();
  await mesh?.stop();
  await cp?.stop();
  await Promise.all(exporters.map((e) => e.close()));
});

async function until(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${server?.log().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A source holds at least `seconds` samples of `up` for each of `targets` targets of the namespace. */
async function hasSeconds(source: PrometheusSource, namespace: string, targets: number, seconds: number): Promise<boolean> {
  const r = await source.query(`count_over_time(up{namespace="${namespace}"}[60s])`);
  return r.resultType === 'vector' && r.result.length === targets && r.result.every((s) => s.value[1] >= seconds);
}

/** An evaluation time in the past whose millisecond phase keeps clear of both scrapers' sample times. */
async function evaluationTime(sources: PrometheusSource[], namespace: string): Promise<number> {
  const phases: number[] = [];
  for (const source of sources) {
    const r = await source.query(`up{namespace="${namespace}"}[5s]`);
    if (r.resultType === 'matrix') for (const s of r.result) for (const [t] of s.values) phases.push(Math.round(t * 1000) % 1000);
  }
  const base = Date.now() - 3500;
  let best = base;
  let bestGap = -1;
  for (let off = 0; off < 1000; off += 5) {
    const phase = (base + off) % 1000;
    const gap = Math.min(...phases.map((p) => Math.min(Math.abs(phase - p), 1000 - Math.abs(phase - p))));
    if (gap > bestGap) (bestGap = gap), (best = base + off);
  }
  return best;
}

type Keyed = Map<string, number>;

function keyed(r: InstantQueryResult): Keyed {
  assert.equal(r.resultType, 'vector');
  return new Map(r.resultType === 'vector' ? r.result.map((s) => [JSON.stringify(Object.entries(s.metric).sort()), s.value[1]]) : []);
}

const byService = (m: Keyed) => new Map([...m].map(([k, v]) => [JSON.parse(k).find(([n]: [string]) => n === 'destination_service')?.[1] as string, v]));

function agree(observed: string[], query: string, p: Keyed, e: Keyed, tolerance: { relative?: number; absolute?: number }): void {
  assert.deepEqual([...e.keys()].sort(), [...p.keys()].sort(), `${query}: the same series on both sides`);
  assert.ok(p.size > 0, `${query}: no result`);
  let worst = 0;
  for (const [k, pv] of p) {
    const ev = e.get(k)!;
    const limit = Math.max(tolerance.absolute ?? 0, (tolerance.relative ?? 0) * Math.abs(pv));
    assert.ok(Math.abs(pv - ev) <= limit, `${query} ${k}: Prometheus ${pv}, embedded ${ev} (limit ${limit})`);
    worst = Math.max(worst, tolerance.absolute ? Math.abs(pv - ev) : pv === 0 ? Math.abs(ev) : Math.abs(pv - ev) / Math.abs(pv));
  }
  observed.push(`${tolerance.absolute ? worst.toFixed(4) : `${(worst * 100).toFixed(3)}%`} max ${tolerance.absolute ? 'absolute' : 'relative'} difference: ${query}`);
}

function rangeWorst(p: RangeSeries[], e: RangeSeries[]): number {
  let worst = 0;
  for (const ps of p) {
    const es = e.find((s) => s.metric.destination_service === ps.metric.destination_service)!;
    ps.values.forEach(([, v], i) => (worst = Math.max(worst, Math.abs(v - es.values[i][1]) / v)));
  }
  return worst;
}

test('exporters with known traffic: Prometheus and the embedded store agree', { timeout: 110_000 }, async (ctx) => {
  await until(async () => (await hasSeconds(prom, 'fixture', 3, 34)) && (await hasSeconds(embedded, 'fixture', 3, 34)), 80_000, '34 s of samples on both sides');
  const t = await evaluationTime([prom, embedded], 'fixture');
  const both = async (q: string) => [keyed(await prom.query(q, t)), keyed(await embedded.query(q, t))] as const;
  const observed: string[] = [];
  const sel = 'namespace="fixture",reporter="destination"';

  // up: same targets, same target labels (job, instance, namespace, pod, app, version), all 1.
  const [pUp, eUp] = await both('up{namespace="fixture"}');
  assert.deepEqual([...eUp], [...pUp]);
  assert.deepEqual([...pUp.values()], [1, 1, 1]);

  // Every series carries the same labels on both sides (the exporter's and the target's).
  const labelSets = async (src: PrometheusSource) => (await src.series(['{__name__=~"istio_.*",namespace="fixture"}'], t - 60_000, t)).map((m) => JSON.stringify(Object.entries(m).sort())).sort();
  const [pSeries, eSeries] = [await labelSets(prom), await labelSets(embedded)];
  assert.equal(pSeries.length, services.length * 24); // per exporter: 2 counters, 19 buckets and +Inf, sum, count
  assert.deepEqual(eSeries, pSeries);

  const rateQ = `sum by (destination_service) (rate(istio_requests_total{${sel}}[30s]))`;
  const [pRate, eRate] = await both(rateQ);
  agree(observed, rateQ, pRate, eRate, { relative: 0.05 });
  for (const s of services) {
    const truth = (s.meanPerTick * 1000) / TICK_MS;
    const seen = byService(eRate).get(s.service)!;
    assert.ok(Math.abs(seen - truth) <= 0.15 * truth, `${s.service}: rate ${seen}, configured mean ${truth}`);
  }

  const errQ = `sum by (destination_service) (rate(istio_requests_total{${sel},response_code=~"5.."}[30s])) / sum by (destination_service) (rate(istio_requests_total{${sel}}[30s]))`;
  const [pErr, eErr] = await both(errQ);
  agree(observed, errQ, pErr, eErr, { absolute: 0.03 });
  for (const s of services) {
    const seen = byService(eErr).get(s.service)!;
    assert.ok(Math.abs(seen - s.errorRatio) <= 0.08, `${s.service}: error ratio ${seen}, configured ${s.errorRatio}`);
  }

  for (const q of [0.5, 0.99]) {
    const quantileQ = `histogram_quantile(${q}, sum by (destination_service, le) (rate(istio_request_duration_milliseconds_bucket{${sel}}[30s])))`;
    const [pQ, eQ] = await both(quantileQ);
    agree(observed, quantileQ, pQ, eQ, { relative: 0.1 });
  }

  const meanQ = `sum by (destination_service) (rate(istio_request_duration_milliseconds_sum{${sel}}[30s])) / sum by (destination_service) (rate(istio_request_duration_milliseconds_count{${sel}}[30s]))`;
  const [pMean, eMean] = await both(meanQ);
  agree(observed, meanQ, pMean, eMean, { relative: 0.1 });

  // A range query, point by point, over shorter windows.
  const rangeQ = `sum by (destination_service) (rate(istio_requests_total{${sel}}[10s]))`;
  const [pr, er] = [await prom.queryRange(rangeQ, t - 10_000, t, 2000), await embedded.queryRange(rangeQ, t - 10_000, t, 2000)];
  assert.equal(pr.result.length, services.length);
  assert.equal(er.result.length, pr.result.length);
  for (const ps of pr.result) {
    const es = er.result.find((s) => s.metric.destination_service === ps.metric.destination_service)!;
    assert.deepEqual(es.values.map(([ts]) => ts), ps.values.map(([ts]) => ts));
    ps.values.forEach(([ts, v], i) => assert.ok(Math.abs(v - es.values[i][1]) <= 0.12 * v, `${rangeQ} at ${ts}: Prometheus ${v}, embedded ${es.values[i][1]}`));
  }
  observed.push(`${(rangeWorst(pr.result, er.result) * 100).toFixed(3)}% max relative difference: range query ${rangeQ}`);
  for (const line of observed) ctx.diagnostic(line);
});

test('bookinfo sidecars under load: Prometheus and the embedded store agree', { timeout: 110_000 }, async (ctx) => {
  const pods = mesh!.instances.length;
  await until(async () => (await hasSeconds(prom, 'bookinfo', pods, 34)) && (await hasSeconds(meshEmbedded, 'bookinfo', pods, 34)), 80_000, '34 s of sidecar samples on both sides');
  const t = await evaluationTime([prom, meshEmbedded], 'bookinfo');
  const both = async (q: string) => [keyed(await prom.query(q, t)), keyed(await meshEmbedded.query(q, t))] as const;
  const observed: string[] = [];

  const [pUp, eUp] = await both('up{namespace="bookinfo"}');
  assert.deepEqual([...eUp], [...pUp]);
  assert.equal(pUp.size, pods);

  // The same series (sidecar labels + target labels) on both sides.
  const [pSeries, eSeries] = await both('istio_requests_total{namespace="bookinfo"} offset 5s');
  assert.deepEqual([...eSeries.keys()].sort(), [...pSeries.keys()].sort());
  assert.ok(pSeries.size >= 8, `only ${pSeries.size} istio_requests_total series`);

  const dest = 'namespace="bookinfo",reporter="destination"';
  const rateQ = `sum by (destination_service) (rate(istio_requests_total{${dest}}[30s]))`;
  const [pRate, eRate] = await both(rateQ);
  agree(observed, rateQ, pRate, eRate, { relative: 0.1 });
  assert.deepEqual([...byService(pRate).keys()].sort(), ['details', 'productpage', 'ratings', 'reviews'].map((s) => `${s}.bookinfo.svc.cluster.local`));

  // The fault on details is injected by the calling sidecar: errors are source-reported.
  const src = 'namespace="bookinfo",reporter="source"';
  const errQ = `sum by (destination_service) (rate(istio_requests_total{${src},response_code=~"5.."}[30s])) / sum by (destination_service) (rate(istio_requests_total{${src}}[30s]))`;
  const [pErr, eErr] = await both(errQ);
  agree(observed, errQ, pErr, eErr, { absolute: 0.03 });
  const detailsErr = byService(eErr).get('details.bookinfo.svc.cluster.local')!;
  assert.ok(detailsErr > 0.02 && detailsErr < 0.2, `details error ratio ${detailsErr} (10% of calls abort)`);

  // Quantiles: each side's q quantile lies between the other's q-0.1 and q+0.1 quantiles.
  const quantile = async (source: PrometheusSource, q: number) =>
    byService(keyed(await source.query(`histogram_quantile(${Math.min(1, Math.max(0, q))}, sum by (destination_service, le) (rate(istio_request_duration_milliseconds_bucket{${dest}}[30s])))`, t)));
  for (const q of [0.5, 0.99]) {
    let worst = 0;
    for (const [a, b] of [[prom, meshEmbedded], [meshEmbedded, prom]] as const) {
      const [mid, lo, hi] = [await quantile(a, q), await quantile(b, q - 0.1), await quantile(b, q + 0.1)];
      assert.equal(mid.size, 4);
      for (const [svc, v] of mid) {
        assert.ok(v >= lo.get(svc)! * (1 - 1e-9) && v <= hi.get(svc)! * (1 + 1e-9), `p${q * 100} of ${svc}: ${v} outside [${lo.get(svc)}, ${hi.get(svc)}] of the other side`);
      }
      const other = await quantile(b, q);
      for (const [svc, v] of mid) worst = Math.max(worst, Math.abs(v - other.get(svc)!) / other.get(svc)!);
    }
    observed.push(`${(worst * 100).toFixed(3)}% max relative difference: p${q * 100} by destination_service`);
  }
  ctx.diagnostic(`${mesh!.sent()} productpage requests sent`);
  for (const line of observed) ctx.diagnostic(line);
});
