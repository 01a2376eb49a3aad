import assert from 'node:assert/strict';
import { assertLocalReply, assertProxied, useSidecar } from './fixture.js';
import { row, table } from './table.js';

// Istio's retry policy when the VirtualService says little or nothing (istiod's
// retry.ConvertPolicy): no `retries` block = 2 retries on
// connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes with 503;
// `attempts` <= 0 = no policy at all; a block overrides only the fields it sets. Every service
// here is upstream `a` (or a dead address) behind a differently written VirtualService.

const NET = '127.10.161';
const GRPC = { 'content-type': 'application/grpc' };
const to = (host: string, retries?: unknown) => [{ route: [{ destination: { host } }], ...(retries !== undefined && { retries }) }];

table('VirtualService retries: Istio defaults and overrides', () => {
  const fx = useSidecar({
    net: NET,
    upstreams: ['a', 'b'],
    services: {
      svc: { endpoints: ['a'] }, // no VirtualService: istiod's default route
      plain: { endpoints: ['a'], http: to('plain') }, // a VirtualService without `retries`
      off: { endpoints: ['a'], http: to('off', { attempts: 0 }) },
      nocount: { endpoints: ['a'], http: to('nocount', { perTryTimeout: '1s' }) },
      more: { endpoints: ['a'], http: to('more', { attempts: 4 }) },
      replaced: { endpoints: ['a'], http: to('replaced', { attempts: 2, retryOn: 'connect-failure' }) },
      pair: { endpoints: ['dead', 'b'], lbPolicy: 'LEAST_REQUEST' },
      dead: { endpoints: ['dead'] },
    },
  });

  row({ id: 'RD-01', field: 'VirtualService.http.retries', rule: 'istiod default policy (no retries block): a 503 is retried twice, then goes downstream with URX' }, async () => {
    fx.seed(7);
    const retries = fx.sidecar.stats.get('upstream.rq_retry');
    const sent = await fx.send('svc', '/default', { headers: { 'x-upstream-status': '503' } });
    assertProxied(sent, { status: 503, flag: 'URX', upstream: 'a' });
    assert.equal(sent.hits.a, 3, '1 try + 2 retries');
    assert.equal(sent.armed.length, 2, 'two backoffs');
    assert.equal(fx.sidecar.stats.get('upstream.rq_retry'), retries + 2, 'counted as upstream_rq_retry');
  });

  row({ id: 'RD-02', field: 'VirtualService.http.retries', rule: 'istiod default policy also applies to a VirtualService route without a retries block' }, async () => {
    const sent = await fx.send('plain', '/vs', { headers: { 'x-upstream-status': '503' } });
    assertProxied(sent, { status: 503, flag: 'URX' });
    assert.equal(sent.hits.a, 3);
  });

  row({ id: 'RD-03', field: 'VirtualService.http.retries', rule: 'istiod default policy: a 503 followed by a success answers the success, with no flag' }, async () => {
    fx.upstreams.a.script({ failNext: 1, status: 503 });
    try {
      const sent = await fx.send('svc', '/recovers');
      assertProxied(sent, { status: 200 });
      assert.equal(sent.hits.a, 2);
    } finally {
      fx.upstreams.a.script({});
    }
  });

  row({ id: 'RD-04', field: 'VirtualService.http.retries', rule: 'istiod default policy does not retry a 500 (only 503 is a retriable status code)' }, async () => {
    const sent = await fx.send('svc', '/internal', { headers: { 'x-upstream-status': '500' } });
    assertProxied(sent, { status: 500 });
    assert.equal(sent.hits.a, 1);
    assert.deepEqual(sent.armed, []);
  });

  row({ id: 'RD-05', field: 'VirtualService.http.retries', rule: 'istiod default policy does not retry a reset after connecting (reset is not in its retryOn)' }, async () => {
    const sent = await fx.send('svc', '/reset', { headers: { 'x-upstream-reset': 'before-headers' } });
    assert.equal(sent.res.status, 503);
    assert.match(sent.done.details, /^upstream_reset_before_response_started\{/); // its flag: RC-23
    assert.equal(sent.hits.a, 1);
    assert.deepEqual(sent.armed, []);
  });

  row({ id: 'RD-06', field: 'VirtualService.http.retries', rule: 'istiod default policy (connect-failure, previous_hosts): a refused connection is retried on another host' }, async () => {
    fx.seed(7);
    const before = fx.upstreams.b.requests;
    let retried = 0;
    for (let i = 0; i < 8; i++) {
      const sent = await fx.send('pair', `/r${i}`);
      assertProxied(sent, { status: 200, upstream: 'b' });
      assert.ok(sent.armed.length <= 1, `request ${i}: the dead host is never tried twice (${sent.armed.length} retries)`);
      retried += sent.armed.length;
    }
    assert.equal(fx.upstreams.b.requests - before, 8, 'every request reached the live host exactly once');
    assert.ok(retried >= 1, 'the balancer picked the dead host at least once (seeded random)');
  });

  row({ id: 'RD-07', field: 'VirtualService.http.retries', rule: 'Envoy router: out of retries after connect failures: 503 UF,URX with details connection_failure' }, async () => {
    const sent = await fx.send('dead', '/nobody');
    assertLocalReply(sent, { status: 503, flag: 'UF,URX', details: 'upstream_reset_before_response_started{connection_failure}' });
    assert.equal(sent.armed.length, 2, 'two retries, both refused');
  });

  row({ id: 'RD-08', field: 'VirtualService.http.retries', rule: 'istiod default policy retries gRPC unavailable (grpc-status 14)' }, async () => {
    const sent = await fx.send('svc', '/grpc.Svc/Unavailable', { headers: { ...GRPC, 'x-upstream-grpc-status': '14' } });
    assertProxied(sent, { status: 200, flag: 'URX' });
    assert.equal(sent.res.headers['grpc-status'], '14');
    assert.equal(sent.hits.a, 3);
  });

  row({ id: 'RD-09', field: 'VirtualService.http.retries', rule: 'istiod default policy retries gRPC cancelled (grpc-status 1)' }, async () => {
    const sent = await fx.send('svc', '/grpc.Svc/Cancelled', { headers: { ...GRPC, 'x-upstream-grpc-status': '1' } });
    assertProxied(sent, { status: 200, flag: 'URX' });
    assert.equal(sent.hits.a, 3);
  });

  row({ id: 'RD-10', field: 'VirtualService.http.retries', rule: 'istiod default policy does not retry other gRPC statuses (internal 13, deadline-exceeded 4, resource-exhausted 8)' }, async () => {
    for (const code of ['13', '4', '8']) {
      const sent = await fx.send('svc', `/grpc.Svc/Other${code}`, { headers: { ...GRPC, 'x-upstream-grpc-status': code } });
      assertProxied(sent, { status: 200 });
      assert.equal(sent.hits.a, 1, `grpc-status ${code}`);
    }
  });

  row({ id: 'RD-11', field: 'VirtualService.http.retries.attempts', rule: 'istiod: attempts 0 disables retries, Istio default policy included' }, async () => {
    const sent = await fx.send('off', '/off', { headers: { 'x-upstream-status': '503' } });
    assertProxied(sent, { status: 503 });
    assert.equal(sent.hits.a, 1);
    assert.deepEqual(sent.armed, []);
  });

  row({ id: 'RD-12', field: 'VirtualService.http.retries.attempts', rule: 'istiod: a retries block without attempts (here only perTryTimeout) is attempts 0: no retries' }, async () => {
    const sent = await fx.send('nocount', '/nocount', { headers: { 'x-upstream-status': '503' } });
    assertProxied(sent, { status: 503 });
    assert.equal(sent.hits.a, 1);
  });

  row({ id: 'RD-13', field: 'VirtualService.http.retries.attempts', rule: 'istiod: a block overrides only what it sets: attempts 4 keeps the default retryOn (503 retried 4 times; 500 not)' }, async () => {
    const unavailable = await fx.send('more', '/more', { headers: { 'x-upstream-status': '503' } });
    assertProxied(unavailable, { status: 503, flag: 'URX' });
    assert.equal(unavailable.hits.a, 5);
    const internal = await fx.send('more', '/more', { headers: { 'x-upstream-status': '500' } });
    assertProxied(internal, { status: 500 });
    assert.equal(internal.hits.a, 1);
  });

  row({ id: 'RD-14', field: 'VirtualService.http.retries.retryOn', rule: 'istiod: a retryOn replaces the default conditions and their 503 (retryOn connect-failure does not retry a 503)' }, async () => {
    const sent = await fx.send('replaced', '/replaced', { headers: { 'x-upstream-status': '503' } });
    assertProxied(sent, { status: 503 });
    assert.equal(sent.hits.a, 1);
  });
});
