import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apportion, brokenVirtualService, destinationRulesOf, freeName, namesService, rolloutVirtualService, tinyPoolDestinationRule, virtualServicesOf, withVersionSubsets } from '../../src/platform/local/chaos/config-edits.js';
import type { StoredResource } from '../../src/platform/local/chaos/control-plane-client.js';

// The config changes chaos makes: a bad rollout, a broken route, a tiny connection pool, each
// built from what is in force (changed in place) or new when the service has none.

const reviews = { kind: 'service' as const, namespace: 'bookinfo', name: 'reviews' };

const stored = (kind: string, namespace: string, name: string, spec: Record<string, unknown>): StoredResource => ({
  kind, apiVersion: 'networking.istio.io/v1', namespace, name, raw: { apiVersion: 'networking.istio.io/v1', kind, metadata: { name, namespace }, spec },
});

const vs = stored('VirtualService', 'bookinfo', 'reviews', {
  hosts: ['reviews'],
  http: [
    { match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [{ destination: { host: 'reviews', subset: 'v2' } }] },
    { route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 90 }, { destination: { host: 'reviews', subset: 'v3' }, weight: 10 }] },
  ],
});
const dr = stored('DestinationRule', 'bookinfo', 'reviews', { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] });

test('which resources name a service: short names only in its own namespace', () => {
  assert.ok(namesService('reviews', 'bookinfo', reviews));
  assert.ok(namesService('reviews.bookinfo.svc.cluster.local', 'default', reviews));
  assert.ok(!namesService('reviews', 'default', reviews));
  const other = stored('VirtualService', 'default', 'x', { hosts: ['reviews'] });
  assert.deepEqual(virtualServicesOf([vs, other], reviews).map((r) => r.name), ['reviews']);
  assert.deepEqual(destinationRulesOf([dr], reviews).map((r) => r.name), ['reviews']);
  assert.equal(freeName([vs], reviews), 'reviews-chaos');
  assert.equal(freeName([other], reviews), 'reviews');
});

test('apportion keeps proportions in whole numbers that add up', () => {
  assert.deepEqual(apportion([90, 10], 50), [45, 5]);
  assert.deepEqual(apportion([1, 1, 1], 100), [34, 33, 33]);
  assert.deepEqual(apportion([100], 70), [70]);
});

test('a bad rollout adds a subset and shifts the given share of every route to it', () => {
  const { raw: newDr, subsetOf } = withVersionSubsets(dr.raw, reviews, 'reviews', ['v1', 'v2', 'v3', 'bad']);
  assert.deepEqual(newDr.spec.subsets.map((s: { name: string }) => s.name), ['v1', 'v2', 'v3', 'bad']);
  assert.deepEqual([...subsetOf], [['v1', 'v1'], ['v2', 'v2'], ['v3', 'v3'], ['bad', 'bad']]);
  assert.equal((dr.raw.spec as { subsets: unknown[] }).subsets.length, 2, 'the resource in force is not changed');
  const out = rolloutVirtualService(vs.raw, reviews, 'reviews', ['v1', 'v2', 'v3'], 'bad', 40);
  assert.deepEqual(out.spec.http.map((h: { route: unknown }) => h.route), [
    [{ destination: { host: 'reviews', subset: 'v2' }, weight: 60 }, { destination: { host: 'reviews', subset: 'bad' }, weight: 40 }],
    [{ destination: { host: 'reviews', subset: 'v1' }, weight: 54 }, { destination: { host: 'reviews', subset: 'v3' }, weight: 6 }, { destination: { host: 'reviews', subset: 'bad' }, weight: 40 }],
  ]);
  assert.deepEqual(out.spec.http[0].match, [{ headers: { 'end-user': { exact: 'jason' } } }]);
  const fresh = rolloutVirtualService(undefined, reviews, 'reviews', ['v1', 'v2'], 'bad', 50);
  assert.deepEqual(fresh.metadata, { name: 'reviews', namespace: 'bookinfo' });
  assert.deepEqual(fresh.spec.http[0].route.map((r: { destination: { subset: string }; weight: number }) => [r.destination.subset, r.weight]), [['v1', 25], ['v2', 25], ['bad', 50]]);
});

test('a broken change sends every route of the service to a missing subset or a wrong host', () => {
  const missing = brokenVirtualService(vs.raw, reviews, 'reviews', { subset: 'missing' });
  assert.deepEqual(missing.spec.http.map((h: { route: unknown }) => h.route), [[{ destination: { host: 'reviews', subset: 'missing' } }], [{ destination: { host: 'reviews', subset: 'missing' } }]]);
  const wrong = brokenVirtualService(undefined, reviews, 'reviews', { host: 'reviewz.bookinfo.svc.cluster.local' });
  assert.deepEqual(wrong.spec, { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviewz.bookinfo.svc.cluster.local' } }] }] });
});

test('a tiny pool keeps the rule and its other settings', () => {
  const withPolicy = stored('DestinationRule', 'bookinfo', 'reviews', { host: 'reviews', trafficPolicy: { connectionPool: { tcp: { connectTimeout: '1s' } }, loadBalancer: { simple: 'RANDOM' } } });
  const out = tinyPoolDestinationRule(withPolicy.raw, reviews, 'reviews', { maxConnections: 1, maxPending: 2, maxRequests: 3 });
  assert.deepEqual(out.spec.trafficPolicy, {
    connectionPool: { tcp: { connectTimeout: '1s', maxConnections: 1 }, http: { http1MaxPendingRequests: 2, http2MaxRequests: 3 } },
    loadBalancer: { simple: 'RANDOM' },
  });
  assert.equal(tinyPoolDestinationRule(undefined, reviews, 'reviews', { maxConnections: 1, maxPending: 1, maxRequests: 1 }).spec.host, 'reviews.bookinfo.svc.cluster.local');
});
