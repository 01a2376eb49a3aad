import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileRetryPolicy, DEFAULT_RETRY_POLICY, retryBackoffMs } from '../../src/proxy/router/retry-policy.js';

// The retry policy as compiled from a VirtualService `retries` block (istiod's retry.ConvertPolicy
// and Envoy's retry_on conditions), without sockets: the conformance rows (conformance/retry-*.test.ts) cover
// the same rules end to end.

const http = {};
const grpc = { 'content-type': 'application/grpc' };

test('no retries block: Istio default (2 retries, 503, connect-failure; not 500)', () => {
  const p = compileRetryPolicy(undefined)!;
  assert.equal(p, DEFAULT_RETRY_POLICY);
  assert.equal(p.attempts, 2);
  assert.equal(p.retriableResponse(503, [], http), true);
  assert.equal(p.retriableResponse(500, [], http), false);
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
  assert.equal(p.retriableResponse(503, [], http), true);
  assert.equal(p.retriableResponse(502, [], http), false);
});

test('bare numbers in retryOn are retriable status codes; retriable-4xx is 409 only', () => {
  const p = compileRetryPolicy({ attempts: 1, retryOn: 'retriable-4xx, 429' })!;
  assert.equal(p.retriableResponse(429, [], http), true);
  assert.equal(p.retriableResponse(409, [], http), true);
  assert.equal(p.retriableResponse(404, [], http), false);
  assert.equal(p.retriableResponse(503, [], http), false, 'the user retryOn replaces the default 503');
});

test('gateway-error: 502/503/504 and resets; 5xx: any 5xx; reset: resets only', () => {
  const gw = compileRetryPolicy({ attempts: 1, retryOn: 'gateway-error' })!;
  assert.deepEqual([500, 502, 503, 504].map((s) => gw.retriableResponse(s, [], http)), [false, true, true, true]);
  assert.equal(gw.retriableReset('reset'), true);
  const any = compileRetryPolicy({ attempts: 1, retryOn: '5xx' })!;
  assert.equal(any.retriableResponse(501, [], http), true);
  const reset = compileRetryPolicy({ attempts: 1, retryOn: 'reset' })!;
  assert.equal(reset.retriableResponse(503, [], http), false);
  assert.equal(reset.retriableReset('connect-failure'), true);
});

test('gRPC conditions read grpc-status of a trailers-only answer to a gRPC request', () => {
  const p = compileRetryPolicy({ attempts: 1, retryOn: 'unavailable,resource-exhausted' })!;
  assert.equal(p.retriableResponse(200, ['grpc-status', '14'], grpc), true);
  assert.equal(p.retriableResponse(200, ['Grpc-Status', '8'], grpc), true);
  assert.equal(p.retriableResponse(200, ['grpc-status', '13'], grpc), false);
  assert.equal(p.retriableResponse(200, ['grpc-status', '14'], http), false, 'not a gRPC request');
});

test('full-jitter backoff stays below min((2^n - 1) x 25, 250) ms', () => {
  const top = () => 0.999999;
  assert.deepEqual([1, 2, 3, 4, 5, 40].map((n) => retryBackoffMs(n, top)), [24, 74, 174, 249, 249, 249]);
  assert.equal(retryBackoffMs(3, () => 0), 0);
});
