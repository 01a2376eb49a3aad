import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyThresholds, requestHealth } from '../../src/telemetry/health/health.js';
import { responseCodeKey } from '../../src/telemetry/health/tolerances.js';

// Kiali's default tolerances (5xx > 0 degraded, >= 10% failure; 4xx >= 10% degraded, >= 20%
// failure; gRPC non-OK > 0 degraded, >= 10% failure; no response > 0 degraded, >= 10% failure),
// the worst indicator winning, no traffic NA.

const http = (codes: Record<string, number>) => [{ responses: { http: codes } }];

test('health: 5xx above zero degrades, at 10% fails; exactly at the thresholds counts', () => {
  assert.equal(requestHealth(http({ '200': 100 })).status, 'Healthy');
  assert.equal(requestHealth(http({ '200': 999, '503': 1 })).status, 'Degraded');
  assert.equal(requestHealth(http({ '200': 91, '500': 9 })).status, 'Degraded');
  assert.equal(requestHealth(http({ '200': 9, '502': 1 })).status, 'Failure');
  const h = requestHealth([{ direction: 'inbound', responses: { http: { '200': 3, '503': 1 } } }]);
  assert.equal(h.status, 'Failure');
  assert.deepEqual(h.indicator, { direction: 'inbound', protocol: 'http', tolerance: '5xx', percent: 25 });
  assert.equal(h.reason, '5xx 25% of inbound http requests (failure at >= 10%)');
});

test('health: 4xx below 10% is healthy, from 10% degraded, from 20% failure', () => {
  assert.equal(requestHealth(http({ '200': 10, '404': 1 })).status, 'Healthy'); // 9.09%
  assert.equal(requestHealth(http({ '200': 9, '404': 1 })).status, 'Degraded'); // 10%
  assert.equal(requestHealth(http({ '200': 81, '403': 19 })).status, 'Degraded');
  assert.equal(requestHealth(http({ '200': 4, '429': 1 })).status, 'Failure'); // 20%
  assert.equal(requestHealth(http({ '200': 9, '404': 1 })).reason, '4xx 10% of http requests (degraded at >= 10%)');
});

test('health: gRPC non-OK statuses (1-16) degrade above zero and fail at 10%; gRPC OK and HTTP codes do not count for gRPC', () => {
  const grpc = (codes: Record<string, number>) => [{ responses: { grpc: codes } }];
  assert.equal(requestHealth(grpc({ '0': 100 })).status, 'Healthy');
  assert.equal(requestHealth(grpc({ '0': 95, '14': 5 })).status, 'Degraded');
  assert.equal(requestHealth(grpc({ '0': 9, '4': 1 })).status, 'Failure');
  assert.equal(requestHealth(grpc({ '0': 9, '16': 1 })).indicator?.tolerance, 'gRPC non-OK');
  assert.equal(requestHealth(grpc({ '0': 9, '17': 1 })).status, 'Healthy');
});

test('health: requests without a response (code 0) fail at 10%, for HTTP and gRPC', () => {
  assert.equal(requestHealth(http({ '200': 95, '-': 5 })).status, 'Degraded');
  assert.equal(requestHealth([{ responses: { grpc: { '0': 8, '-': 2 } } }]).status, 'Failure');
});

test('health: the worst indicator of any direction and protocol wins', () => {
  const h = requestHealth([
    { direction: 'inbound', responses: { http: { '200': 100, '404': 12 } } }, // 4xx 10.7%: degraded
    { direction: 'outbound', responses: { http: { '200': 100 }, grpc: { '0': 80, '14': 20 } } }, // gRPC 20%: failure
  ]);
  assert.equal(h.status, 'Failure');
  assert.deepEqual(h.indicator, { direction: 'outbound', protocol: 'grpc', tolerance: 'gRPC non-OK', percent: 20 });
});

test('health: no requests (or only TCP, or only zero rates) is NA', () => {
  assert.equal(requestHealth([]).status, 'NA');
  assert.equal(requestHealth([{ responses: undefined }]).status, 'NA');
  assert.equal(requestHealth([{ responses: { tcp: { '-': 10 } } }]).status, 'NA');
  assert.equal(requestHealth(http({ '200': 0, '503': 0 })).status, 'NA');
});

test("health: Kiali's thresholds and response code keys", () => {
  assert.equal(applyThresholds(0, 0, 10), 'Healthy');
  assert.equal(applyThresholds(0.001, 0, 10), 'Degraded');
  assert.equal(applyThresholds(9.99, 10, 20), 'Healthy');
  assert.equal(applyThresholds(50, 10, 0), 'Degraded'); // failure 0: never a failure
  assert.equal(responseCodeKey('http', '503', ''), '503');
  assert.equal(responseCodeKey('http', '0', ''), '-');
  assert.equal(responseCodeKey('grpc', '200', '14'), '14');
  assert.equal(responseCodeKey('grpc', '503', '14'), '503'); // the HTTP exchange failed
  assert.equal(responseCodeKey('grpc', '200', ''), '200'); // no gRPC status reported
  assert.equal(responseCodeKey('grpc', '0', '14'), '-');
});
