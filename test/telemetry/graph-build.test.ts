import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { buildGraph } from '../../src/telemetry/graph/build-graph.js';
import type { GraphEdge, TrafficGraph } from '../../src/telemetry/graph/types.js';
import { MetricsStore } from '../../src/telemetry/store/metrics-store.js';
import { StoreMetricsSource } from '../../src/telemetry/store/store-source.js';
import { fillShop, fqdn, NOW } from './graph-fixture.js';

// The graph from known series (graph-fixture.ts): nodes, edges and their figures at each level,
// with exact values: rates, ratios, flag counts, quantiles, mTLS shares, health.

const store = new MetricsStore({ now: () => NOW });
const source = new StoreMetricsSource(store, () => NOW);
const now = () => NOW;
const CART = `svc:${fqdn('cart', 'shop')}`;
const FRONTEND = `svc:${fqdn('frontend', 'shop')}`;
const PAYMENTS = `svc:${fqdn('payments', 'pay')}`;
const DB = `svc:${fqdn('db', 'shop')}`;
const CATALOG = `svc:${fqdn('catalog', 'shop')}`;

let workload: TrafficGraph;

before(async () => {
  fillShop(store);
  workload = await buildGraph(source, {}, now);
});

function close(actual: number | null | undefined, expected: number, what: string): void {
  assert.ok(typeof actual === 'number' && Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${actual} != ${expected}`);
}

function edge(g: TrafficGraph, source: string, target: string, protocol = 'http'): GraphEdge {
  const e = g.edges.find((x) => x.source === source && x.target === target && x.protocol === protocol);
  assert.ok(e, `no edge ${source} -> ${target} (${protocol}) in\n${g.edges.map((x) => `${x.source} -> ${x.target} ${x.protocol}`).join('\n')}`);
  return e;
}

test('graph (workload level): caller workload -> service -> answering workload, outside callers as `unknown`', () => {
  assert.equal(workload.level, 'workload');
  assert.equal(workload.window, '1m');
  assert.equal(workload.windowSeconds, 60);
  assert.equal(workload.timeMs, NOW);
  assert.deepEqual(
    workload.edges.map((e) => `${e.source} -> ${e.target} ${e.protocol} [${e.reporters}]`),
    [
      `${CART} -> wl:shop/cart-v1 http [source]`,
      `${CART} -> wl:shop/cart-v2 http [source]`,
      `${CATALOG} -> wl:shop/catalog-v1 http [destination]`,
      `${DB} -> wl:shop/db-v1 tcp [destination,source]`,
      `${FRONTEND} -> wl:shop/frontend-v1 http [destination]`,
      `${PAYMENTS} -> wl:pay/payments-v1 grpc [source]`,
      `unknown -> ${CATALOG} http [destination]`,
      `unknown -> ${DB} tcp [destination]`,
      `unknown -> ${FRONTEND} http [destination]`,
      `wl:shop/cart-v1 -> ${DB} tcp [source]`,
      `wl:shop/frontend-v1 -> ${CART} http [source]`,
      `wl:shop/frontend-v1 -> ${PAYMENTS} grpc [source]`,
    ],
  );
  const nodes = Object.fromEntries(workload.nodes.map((n) => [n.id, n]));
  assert.deepEqual(
    Object.keys(nodes).sort(),
    [CART, CATALOG, DB, FRONTEND, PAYMENTS, 'unknown', 'wl:pay/payments-v1', 'wl:shop/cart-v1', 'wl:shop/cart-v2', 'wl:shop/catalog-v1', 'wl:shop/db-v1', 'wl:shop/frontend-v1'].sort(),
  );
  assert.deepEqual(
    { kind: nodes[CART].kind, namespace: nodes[CART].namespace, name: nodes[CART].name, service: nodes[CART].service },
    { kind: 'service', namespace: 'shop', name: 'cart', service: 'cart.shop.svc.cluster.local' },
  );
  assert.deepEqual(
    { kind: nodes['wl:shop/cart-v2'].kind, workload: nodes['wl:shop/cart-v2'].workload, app: nodes['wl:shop/cart-v2'].app, version: nodes['wl:shop/cart-v2'].version },
    { kind: 'workload', workload: 'cart-v2', app: 'cart', version: 'v2' },
  );
});

test('graph: an idle edge (series alive, no requests in the window) stays, with rps 0 and health NA', () => {
  const idle = edge(workload, 'unknown', CATALOG);
  assert.deepEqual([idle.rps, idle.requests, idle.successRatio, idle.latencyMs, idle.mtls, idle.health], [0, 0, null, null, null, 'NA']);
  assert.deepEqual([idle.flags, idle.responses], [{}, {}]);
  const node = workload.nodes.find((n) => n.id === CATALOG)!;
  assert.deepEqual([node.inbound, node.health], [null, 'NA']);
});

test('graph: an edge carries rps, error ratios, flag counts over the window, latency quantiles and mTLS', () => {
  // frontend-v1 -> cart: 6 rps 200 in (10,25], 2 rps 503 in (25,50], 2 rps 503 UH in (0.5,1].
  const e = edge(workload, 'wl:shop/frontend-v1', CART);
  close(e.rps, 10, 'rps');
  assert.equal(e.requests, 600);
  close(e.errorRatio, 0.4, 'errorRatio');
  close(e.successRatio, 0.6, 'successRatio');
  close(e.clientErrorRatio, 0, '4xx');
  assert.equal(e.grpcErrorRatio, null);
  assert.deepEqual(e.flags, { UH: 120 });
  // Cumulative buckets: le=1: 2, le=25: 8, le=50: 10. p50: rank 5 in (10,25]: 10 + 15 * 3/6.
  close(e.latencyMs?.p50, 17.5, 'p50');
  close(e.latencyMs?.p95, 25 + 25 * (1.5 / 2), 'p95');
  close(e.latencyMs?.p99, 25 + 25 * (1.9 / 2), 'p99');
  // Destination sidecars reported 6 rps on mutual TLS (cart-v1) and 2 rps plaintext (cart-v2); UH reached none.
  close(e.mtls, 0.75, 'mtls');
  assert.equal(e.health, 'Failure');
  assert.equal(e.healthReason, '5xx 40% of http requests (failure at >= 10%)');
  assert.equal(e.tcp, null);

  const v1 = edge(workload, CART, 'wl:shop/cart-v1');
  close(v1.rps, 6, 'v1 rps');
  close(v1.mtls, 1, 'v1 mtls');
  assert.equal(v1.health, 'Healthy');
  close(v1.latencyMs?.p50, 10 + 15 * 0.5, 'v1 p50');
  const v2 = edge(workload, CART, 'wl:shop/cart-v2');
  close(v2.errorRatio, 1, 'v2 errors');
  close(v2.mtls, 0, 'v2 mtls');
  assert.equal(v2.health, 'Failure');
});

test('graph: the quantiles are histogram_quantile over the same buckets', async () => {
  const q = await source.query(
    `histogram_quantile(0.95, sum by (le) (rate(istio_request_duration_milliseconds_bucket{reporter="source",source_workload="frontend-v1",destination_service="${fqdn('cart', 'shop')}"}[1m])))`,
    NOW,
  );
  assert.equal(q.resultType, 'vector');
  close(edge(workload, 'wl:shop/frontend-v1', CART).latencyMs?.p95, q.resultType === 'vector' ? q.result[0].value[1] : NaN, 'p95 vs PromQL');
});

test('graph: gRPC edges count non-OK statuses separately; outside callers and 4xx', () => {
  const g = edge(workload, 'wl:shop/frontend-v1', PAYMENTS, 'grpc');
  close(g.rps, 10, 'grpc rps');
  close(g.grpcErrorRatio, 0.1, 'grpcErrorRatio');
  close(g.errorRatio, 0, 'grpc 5xx');
  close(g.successRatio, 0.9, 'grpc success');
  assert.deepEqual(g.responses, { grpc: { '0': 9, '14': 1 } });
  assert.equal(g.health, 'Failure');
  close(g.latencyMs?.p99, 1 + 4 * 0.99, 'grpc p99');

  const outside = edge(workload, 'unknown', FRONTEND);
  assert.deepEqual(outside.reporters, ['destination']);
  close(outside.rps, 11, 'outside rps');
  close(outside.clientErrorRatio, 1 / 11, '4xx');
  close(outside.successRatio, 1, 'a 404 is a success, as linkerd counts it');
  assert.equal(outside.health, 'Healthy'); // 4xx 9.1% < 10%
  close(outside.mtls, 0, 'plaintext');
});

test('graph: TCP edges carry bytes and connections; no health', () => {
  const t = edge(workload, 'wl:shop/cart-v1', DB, 'tcp');
  assert.deepEqual(t.tcp && { s: Math.round(t.tcp.sentBytesPerSec), r: Math.round(t.tcp.receivedBytesPerSec), o: t.tcp.connectionsOpenedPerSec }, { s: 1000, r: 500, o: 0.5 });
  assert.equal(t.rps, 0);
  assert.equal(t.health, 'NA');
  // Plain TCP carries no peer metadata: the db sidecar's reports name no caller, and Kiali's rule
  // counts them as traffic from outside the mesh.
  const u = edge(workload, 'unknown', DB, 'tcp');
  close(u.tcp?.sentBytesPerSec, 500, 'unknown tcp');
});

test('graph: node health is Kiali\'s: services by what they received, workloads by both directions', () => {
  const nodes = Object.fromEntries(workload.nodes.map((n) => [n.id, n]));
  assert.equal(nodes[FRONTEND].health, 'Healthy');
  assert.equal(nodes[CART].health, 'Failure');
  assert.equal(nodes[PAYMENTS].health, 'Failure');
  assert.equal(nodes[DB].health, 'NA');
  assert.equal(nodes.unknown.health, 'NA');
  assert.equal(nodes['wl:shop/cart-v1'].health, 'Healthy');
  assert.equal(nodes['wl:shop/cart-v2'].health, 'Failure');
  // frontend-v1 receives only successes but sends 40% 5xx to cart.
  assert.equal(nodes['wl:shop/frontend-v1'].health, 'Failure');
  assert.equal(nodes['wl:shop/frontend-v1'].healthReason, '5xx 40% of outbound http requests (failure at >= 10%)');
  close(nodes['wl:shop/frontend-v1'].inbound?.rps, 11, 'frontend in');
  close(nodes['wl:shop/frontend-v1'].outbound?.rps, 20, 'frontend out');
  close(nodes[CART].inbound?.latencyMs?.p50, 17.5, 'cart p50');
});

test('graph (service level): callers are the services their workloads serve', async () => {
  const g = await buildGraph(source, { level: 'service' }, now);
  assert.deepEqual(
    g.edges.map((e) => `${e.source} -> ${e.target} ${e.protocol}`),
    [`${CART} -> ${DB} tcp`, `${FRONTEND} -> ${CART} http`, `${FRONTEND} -> ${PAYMENTS} grpc`, `unknown -> ${CATALOG} http`, `unknown -> ${DB} tcp`, `unknown -> ${FRONTEND} http`],
  );
  close(edge(g, FRONTEND, CART).rps, 10, 'frontend -> cart');
  assert.deepEqual(g.nodes.map((n) => n.kind).sort(), ['service', 'service', 'service', 'service', 'service', 'unknown']);
});

test('graph (instance level): caller instance -> service -> the instance that answered (destination reports)', async () => {
  const g = await buildGraph(source, { level: 'instance' }, now);
  assert.deepEqual(
    g.edges.map((e) => `${e.source} -> ${e.target} ${e.protocol} [${e.reporters}]`),
    [
      `inst:shop/cart-v1-0 -> ${DB} tcp [source]`,
      `inst:shop/frontend-v1-0 -> ${CART} http [source]`,
      `inst:shop/frontend-v1-0 -> ${PAYMENTS} grpc [source]`,
      `${CART} -> inst:shop/cart-v1-0 http [destination]`,
      `${CART} -> inst:shop/cart-v2-0 http [destination]`,
      `${CATALOG} -> inst:shop/catalog-v1-0 http [destination]`,
      `${DB} -> inst:shop/db-v1-0 tcp [destination]`,
      `${FRONTEND} -> inst:shop/frontend-v1-0 http [destination]`,
      `${PAYMENTS} -> inst:pay/payments-v1-0 grpc [destination]`,
      `unknown -> ${CATALOG} http [destination]`,
      `unknown -> ${DB} tcp [destination]`,
      `unknown -> ${FRONTEND} http [destination]`,
    ],
  );
  const inst = g.nodes.find((n) => n.id === 'inst:shop/cart-v2-0')!;
  assert.deepEqual({ instance: inst.instance, workload: inst.workload, version: inst.version, health: inst.health }, { instance: 'cart-v2-0', workload: 'cart-v2', version: 'v2', health: 'Failure' });
  close(edge(g, CART, 'inst:shop/cart-v1-0').rps, 6, 'cart-v1-0');
});

test('graph: a namespace filter keeps what the namespace sends or receives, UH failures included', async () => {
  const pay = await buildGraph(source, { namespace: 'pay' }, now);
  assert.deepEqual(pay.edges.map((e) => `${e.source} -> ${e.target}`), [`${PAYMENTS} -> wl:pay/payments-v1`, `wl:shop/frontend-v1 -> ${PAYMENTS}`]);
  assert.equal(pay.namespace, 'pay');
  const shop = await buildGraph(source, { namespace: 'shop' }, now);
  const toCart = edge(shop, 'wl:shop/frontend-v1', CART);
  assert.deepEqual(toCart.flags, { UH: 120 });
  const none = await buildGraph(source, { namespace: 'elsewhere' }, now);
  assert.deepEqual([none.nodes.length, none.edges.length], [0, 0]);
});

test('graph: window and time are honoured; queries are listed', async () => {
  // 30 s earlier, over 30 s: the same steady rates.
  const g = await buildGraph(source, { window: '30s', timeMs: NOW - 30_000 }, now);
  assert.equal(g.windowSeconds, 30);
  assert.equal(g.timeMs, NOW - 30_000);
  assert.equal(edge(g, 'wl:shop/frontend-v1', CART).requests, 300);
  assert.ok(g.queries.some((q) => q.includes('rate(istio_requests_total[30s])')), g.queries.join('\n'));
  // Long after the data ends nothing is left.
  const later = await buildGraph(source, { timeMs: NOW + 600_000 }, now);
  assert.equal(later.edges.length, 0);
});

test('graph: bad windows and namespaces are refused with stable codes', async () => {
  await assert.rejects(buildGraph(source, { window: 'soon' }, now), { code: 'E_GRAPH_WINDOW' });
  await assert.rejects(buildGraph(source, { window: '500ms' }, now), { code: 'E_GRAPH_WINDOW' });
  await assert.rejects(buildGraph(source, { namespace: 'Shop"}' }, now), { code: 'E_GRAPH_NAMESPACE' });
});
