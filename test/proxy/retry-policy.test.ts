import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileRetryPolicy, DEFAULT_RETRY_POLICY, retryBackoffMs } from '../../src/proxy/router/retry-policy.js';

// The retry policy as compiled from a VirtualService `retries` block (istiod's retry.ConvertPolicy
// and Envoy's retry_on conditions), without sockets: the conformance rows (conformance/retry-*.test.ts) cover
// the same rules end to end.


test('no retries block: Istio default (2 retries, 503, connect-failure; not 500)', () => {
  const p = compileRetryPolicy(undefined)!;
  assert.equal(p, DEFAULT_RETRY_POLICY);
  assert.equal(p.attempts, 2);
  assert.equal(p.retriableResponse(503, []), true);
  assert.equal(p.retriableResponse(500, []), false);
  assert.equal(p.retriableReset('connect-failure'), true);
  assert.equal(p.retriableReset('refused-stream'), true);
  assert.equal(p.retriableReset('reset'), false);
});

test('attempts absent or 0 disables retries (istiod sends no policy)', () => {
  assert.equal(compileRetryPolicy({ attempts: 0 }), null);
  assert.equal(compileRetryPolicy({ perTryTimeout: '1s' }), null);
});

test('a block overrides only what it sets: attempts alone keeps the default retryOn', () => {
  const p = compileRetryPolicy({ attempts: 4, perTryTimeout: '1.5s' })!;
  assert.equal(p.attempts, 4);
  assert.equal(p.perTryTimeoutMs, 1500);
  assert.equal(p.retriableResponse(503, []), true);
  assert.equal(p.retriableResponse(502, []), false);
});

test('bare numbers in retryOn are retriable status codes; retriable-4xx is 409 only', () => {
  const p = compileRetryPolicy({ attempts: 1, retryOn: 'retriable-4xx, 429' })!;
  assert.equal(p.retriableResponse(429, []), true);
  assert.equal(p.retriableResponse(409, []), true);
  assert.equal(p.retriableResponse(404, []), false);
  assert.equal(p.retriableResponse(503, []), false, 'the user retryOn replaces the default 503');
});

test('gateway-error: 502/503/504 and resets; 5xx: any 5xx; reset: resets only', () => {
  const gw = compileRetryPolicy({ attempts: 1, retryOn: 'gateway-error' })!;
  assert.deepEqual([500, 502, 503, 504].map((s) => gw.retriableResponse(s, [])), [false, true, true, true]);
  assert.equal(gw.retriableReset('reset'), true);
  const any = compileRetryPolicy({ attempts: 1, retryOn: '5xx' })!;
  assert.equal(any.retriableResponse(501, []), true);
  const reset = compileRetryPolicy({ attempts: 1, retryOn: 'reset' })!;
  assert.equal(reset.retriableResponse(503, []), false);
  assert.equal(reset.retriableReset('connect-failure'), true);
});

test('gRPC conditions read grpc-status in the response headers, whatever the request (Envoy)', () => {
  const p = compileRetryPolicy({ attempts: 1, retryOn: 'unavailable,resource-exhausted' })!;
  assert.equal(p.retriableResponse(200, ['grpc-status', '14']), true);
  assert.equal(p.retriableResponse(200, ['Grpc-Status', '8']), true);
  assert.equal(p.retriableResponse(200, ['grpc-status', '13']), false);
  assert.equal(p.retriableResponse(200, ['content-type', 'application/grpc']), false, 'no grpc-status: not retried');
});

test('full-jitter backoff: retry n waits below min(25 x 2^(n-1), 250) ms; retries.backoff moves the base and the cap (10 x base)', () => {
  const top = () => 0.999999;
  assert.deepEqual([1, 2, 3, 4, 5, 40].map((n) => retryBackoffMs(n, top)), [24, 49, 99, 199, 249, 249]);
  assert.equal(retryBackoffMs(3, () => 0), 0);
  assert.deepEqual([1, 4, 5].map((n) => retryBackoffMs(n, top, 100)), [99, 799, 999]);
  const p = compileRetryPolicy({ attempts: 2, backoff: '100ms', retryIgnorePreviousHosts: false })!;
  assert.deepEqual([p.backoffBaseMs, p.avoidPreviousHosts], [100, false]);
  assert.equal(compileRetryPolicy({ attempts: 2 })!.avoidPreviousHosts, true);
});

test('a per-try timeout is retried on reset, 5xx and gateway-error (a local reset, for Envoy)', () => {
  for (const on of ['reset', '5xx', 'gateway-error']) assert.equal(compileRetryPolicy({ attempts: 1, retryOn: on })!.retriablePerTryTimeout(), true, on);
  assert.equal(compileRetryPolicy({ attempts: 1, retryOn: 'connect-failure' })!.retriablePerTryTimeout(), false);
});
