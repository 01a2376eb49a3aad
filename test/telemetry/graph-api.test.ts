import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { ControlPlane } from '../../src/controlplane/control-plane.js';
import { buildGraph } from '../../src/telemetry/graph/build-graph.js';
import { buildStat } from '../../src/telemetry/graph/stat.js';
import type { TrafficGraph } from '../../src/telemetry/graph/types.js';
import { PrometheusSource } from '../../src/telemetry/prometheus/prometheus-source.js';
import { StoreMetricsSource } from '../../src/telemetry/store/store-source.js';
import { fillShop, NOW } from './graph-fixture.js';

// The control plane's /api/v1/graph and /api/v1/stat over HTTP, and the graph built through
// PrometheusSource (Prometheus's HTTP API, here the control plane's own) equal to the one built
// on the embedded store: the graph needs nothing but PromQL, so a real Prometheus stands in.

const cp = new ControlPlane({ clock: { now: () => NOW }, host: '127.10.120.1', metrics: { enabled: false } });
let prom: PrometheusSource;

before(async () => {
  fillShop(cp.metrics.store);
  await cp.start();
  prom = new PrometheusSource({ url: cp.url });
});

after(async () => {
  await prom?.close();
  await cp.stop();
});

async function get(path: string): Promise<{ status: number; body: any }> {
  const res = await request(`${cp.url}${path}`);
  return { status: res.statusCode, body: await res.body.json() };
}

test('GET /api/v1/graph answers the graph at the control plane\'s time, per level and namespace', async () => {
  const { status, body } = await get('/api/v1/graph?level=service&namespace=shop&window=1m');
  assert.equal(status, 200);
  const g = body as TrafficGraph;
  assert.deepEqual([g.level, g.namespace, g.window, g.timeMs], ['service', 'shop', '1m', NOW]);
  const e = g.edges.find((x) => x.source === 'svc:frontend.shop.svc.cluster.local' && x.target === 'svc:cart.shop.svc.cluster.local')!;
  assert.deepEqual([Math.round(e.rps * 1e6) / 1e6, e.health, e.flags], [10, 'Failure', { UH: 120 }]);
  // Default level: workload.
  const w = (await get('/api/v1/graph')).body as TrafficGraph;
  assert.equal(w.level, 'workload');
  assert.ok(w.nodes.some((n) => n.id === 'wl:shop/cart-v2'));
});

test('GET /api/v1/stat answers rows; bad parameters answer 400 with stable codes', async () => {
  const { status, body } = await get('/api/v1/stat?kind=workload&namespace=pay');
  assert.equal(status, 200);
  assert.deepEqual(body.rows.map((r: { name: string; health: string }) => `${r.name} ${r.health}`), ['payments-v1 Failure']);
  for (const [path, code] of [
    ['/api/v1/graph?window=soon', 'E_GRAPH_WINDOW'],
    ['/api/v1/graph?level=pods', 'E_GRAPH_LEVEL'],
    ['/api/v1/graph?namespace=Not_A_Namespace', 'E_GRAPH_NAMESPACE'],
    ['/api/v1/graph?time=yesterday', 'E_GRAPH_TIME'],
    ['/api/v1/stat?kind=pods', 'E_STAT_KIND'],
  ]) {
    const r = await get(path);
    assert.equal(r.status, 400, path);
    assert.equal(r.body.error.code, code, path);
  }
});

test('the graph through PrometheusSource (HTTP, subset-checked PromQL) equals the graph on the store', async () => {
  const local = new StoreMetricsSource(cp.metrics.store, () => NOW);
  for (const level of ['service', 'workload', 'instance'] as const) {
    const viaHttp = await buildGraph(prom, { level, timeMs: NOW }, () => NOW);
    const inProcess = await buildGraph(local, { level, timeMs: NOW }, () => NOW);
    assert.deepEqual(viaHttp, inProcess, level);
  }
  assert.deepEqual(await buildStat(prom, { kind: 'service', timeMs: NOW }), await buildStat(local, { kind: 'service', timeMs: NOW }));
});
