import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { buildStat, type StatRow } from '../../src/telemetry/graph/stat.js';
import { MetricsStore } from '../../src/telemetry/store/metrics-store.js';
import { StoreMetricsSource } from '../../src/telemetry/store/store-source.js';
import { fillShop, NOW } from './graph-fixture.js';

// `stat` rows from known series (graph-fixture.ts): per service or workload what it received,
// with exact success rates, rps and quantiles; idle ones listed with health NA.

const store = new MetricsStore({ now: () => NOW });
const source = new StoreMetricsSource(store, () => NOW);
const now = () => NOW;

before(() => fillShop(store));

function close(actual: number | null | undefined, expected: number, what: string): void {
  assert.ok(typeof actual === 'number' && Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${actual} != ${expected}`);
}

const byName = (rows: StatRow[]) => Object.fromEntries(rows.map((r) => [r.name, r]));

test('stat services: every service in every namespace, sorted, with what its callers sent it', async () => {
  const t = await buildStat(source, { kind: 'service' }, now);
  assert.deepEqual(t.rows.map((r) => `${r.namespace}/${r.name} ${r.health}`), ['pay/payments Failure', 'shop/cart Failure', 'shop/catalog NA', 'shop/db NA', 'shop/frontend Healthy']);
  const rows = byName(t.rows);
  close(rows.frontend.rps, 11, 'frontend rps');
  close(rows.frontend.successRatio, 1, 'frontend success');
  close(rows.frontend.latencyMs?.p50, 7.5, 'frontend p50');
  close(rows.frontend.latencyMs?.p95, 9.75, 'frontend p95');
  close(rows.frontend.latencyMs?.p99, 9.95, 'frontend p99');
  // cart: 6 ok, 2 answered 503 by v2, 2 never left frontend's sidecar (UH).
  close(rows.cart.rps, 10, 'cart rps');
  close(rows.cart.successRatio, 0.6, 'cart success');
  close(rows.cart.latencyMs?.p50, 17.5, 'cart p50');
  assert.deepEqual(rows.cart.flags, { UH: 120 });
  assert.equal(rows.cart.healthReason, '5xx 40% of inbound http requests (failure at >= 10%)');
  close(rows.payments.successRatio, 0.9, 'payments success');
  close(rows.payments.grpcErrorRatio, 0.1, 'payments grpc errors');
  assert.equal(rows.db.rps, 0);
  assert.deepEqual(rows.db.tcp && Math.round(rows.db.tcp.sentBytesPerSec), 1500);
  assert.deepEqual([rows.catalog.rps, rows.catalog.successRatio, rows.catalog.latencyMs], [0, null, null]);
  assert.equal(rows.cart.service, 'cart.shop.svc.cluster.local');
  assert.equal(t.window, '1m');
  assert.ok(t.queries.length >= 6);
});

test('stat workloads: versions apart; health weighs what a workload sent too', async () => {
  const t = await buildStat(source, { kind: 'workload', namespace: 'shop' }, now);
  assert.deepEqual(t.rows.map((r) => `${r.name} ${r.version} ${r.health}`), ['cart-v1 v1 Healthy', 'cart-v2 v2 Failure', 'catalog-v1 v1 NA', 'db-v1 v1 NA', 'frontend-v1 v1 Failure']);
  const rows = byName(t.rows);
  close(rows['cart-v1'].rps, 6, 'cart-v1 rps');
  close(rows['cart-v1'].successRatio, 1, 'cart-v1 success');
  close(rows['cart-v2'].successRatio, 0, 'cart-v2 success');
  close(rows['frontend-v1'].successRatio, 1, 'frontend-v1 receives only successes');
  close(rows['frontend-v1'].outboundRps, 20, 'frontend-v1 sends');
  close(rows['cart-v2'].latencyMs?.p99, 25 + 25 * 0.99, 'cart-v2 p99');
});

test('stat: one name, a namespace, a window; idle services from the sidecars\' counters', async () => {
  const one = await buildStat(source, { kind: 'service', name: 'cart' }, now);
  assert.deepEqual(one.rows.map((r) => r.name), ['cart']);
  const fq = await buildStat(source, { kind: 'service', name: 'payments.pay.svc.cluster.local' }, now);
  assert.deepEqual(fq.rows.map((r) => r.name), ['payments']);
  const pay = await buildStat(source, { kind: 'service', namespace: 'pay' }, now);
  assert.deepEqual(pay.rows.map((r) => r.name), ['payments']);
  // A 1 s window holds one scrape: rate() has nothing to say, yet the services are known.
  const short = await buildStat(source, { kind: 'service', window: '1s' }, now);
  assert.deepEqual(short.rows.map((r) => `${r.name} ${r.health}`), ['payments NA', 'cart NA', 'catalog NA', 'db NA', 'frontend NA']);
  await assert.rejects(buildStat(source, { kind: 'service', window: '2 minutes' }, now), { code: 'E_GRAPH_WINDOW' });
});
