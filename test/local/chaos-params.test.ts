import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chaosErrorText as code } from './chaos-error-text.js';
import { expectedCause } from '../../src/platform/local/chaos/ground-truth.js';
import { checkRequest, DEFAULT_DURATION_MS, parseDuration, parseParams, parsePercent } from '../../src/platform/local/chaos/params.js';
import { hostNamesOf, instancesOf, resolveTarget, type MeshView } from '../../src/platform/local/chaos/targets.js';

// Argument parsing of `chaos inject` (flags, defaults, ranges), target resolution against a
// mesh, and the ground truth each fault type records.

test('durations and percentages: Go durations, 30 or 30%, ranges enforced', () => {
  assert.equal(parseDuration('200ms', '--delay', 1000), 200);
  assert.equal(parseDuration('1m30s', '--duration', 3_600_000), 90_000);
  assert.match(code(() => parseDuration('200', '--delay', 1000)), /^E_CHAOS_PARAM: --delay "200" is not a duration/);
  assert.match(code(() => parseDuration('2s', '--delay', 1000)), /at most 1s/);
  assert.match(code(() => parseDuration('0s', '--delay', 1000)), /more than 0/);
  assert.equal(parsePercent('30', '--percent'), 30);
  assert.equal(parsePercent('12.5%', '--percent'), 12.5);
  assert.match(code(() => parsePercent('130', '--percent')), /within 0\.\.100/);
  assert.match(code(() => parsePercent('0', '--cpu', 1)), /within 1\.\.100/);
});

test('each type takes its own flags, with defaults, and refuses the others', () => {
  assert.deepEqual(parseParams('latency', { delay: '200ms' }), { delayMs: 200, percent: 100 });
  assert.deepEqual(parseParams('error-rate', { percent: '30' }), { status: 500, percent: 30 });
  assert.deepEqual(parseParams('cpu-burn', {}), { cpuPercent: 90 });
  assert.deepEqual(parseParams('bad-version', {}), { version: 'chaos', replicas: 1, percent: 50 });
  assert.deepEqual(parseParams('bad-config', { mode: 'wrong-host', host: 'Reviewz' }), { mode: 'wrong-host', host: 'reviewz' });
  assert.deepEqual(parseParams('external-outage', {}), { mode: 'refuse' });
  assert.deepEqual(parseParams('pool-exhaustion', { maxPending: '4' }), { maxConnections: 1, maxPending: 4, maxRequests: 1 });
  assert.deepEqual(parseParams('instance-crash', {}), {});
  assert.match(code(() => parseParams('latency', {})), /latency needs --delay/);
  assert.match(code(() => parseParams('instance-crash', { delay: '1s' })), /instance-crash does not take --delay/);
  assert.match(code(() => parseParams('error-rate', { status: '200' })), /--status must be a whole number within 400\.\.599/);
  assert.match(code(() => parseParams('external-outage', { mode: 'slow' })), /one of refuse, hang, error/);
  assert.match(code(() => parseParams('bad-config', { host: 'x' })), /--host goes with --mode wrong-host/);
  assert.match(code(() => parseParams('bad-version', { versionLabel: 'V_2' })), /DNS label/);
});

test('the daemon checks a request with the same rules; the duration defaults to 5 minutes', () => {
  assert.deepEqual(checkRequest({ type: 'latency', target: ' api ', params: { delayMs: 50 } }), { type: 'latency', target: 'api', durationMs: DEFAULT_DURATION_MS, params: { delayMs: 50, percent: 100 } });
  assert.match(code(() => checkRequest({ type: 'meteor', target: 'api' })), /unknown fault type "meteor"/);
  assert.match(code(() => checkRequest({ type: 'latency', target: '', params: { delayMs: 5 } })), /a target is required/);
  assert.match(code(() => checkRequest({ type: 'cpu-burn', target: 'a', durationMs: 0 })), /durationMs must be within/);
  assert.match(code(() => checkRequest({ type: 'cpu-burn', target: 'a', params: { delayMs: 5 } })), /cpu-burn does not take --delay/);
});

const mesh: MeshView = {
  instances: [
    { id: 'front-v1-0.shop', name: 'front-v1-0', namespace: 'shop', workload: 'front-v1', service: 'front', version: 'v1' },
    { id: 'api-v1-0.shop', name: 'api-v1-0', namespace: 'shop', workload: 'api-v1', service: 'api', version: 'v1' },
    { id: 'api-v1-1.shop', name: 'api-v1-1', namespace: 'shop', workload: 'api-v1', service: 'api', version: 'v1' },
    { id: 'api-v1-0.other', name: 'api-v1-0', namespace: 'other', workload: 'api-v1', service: 'api', version: 'v1' },
    { id: 'store-v2-0.shop', name: 'store-v2-0', namespace: 'shop', workload: 'store-v2', service: 'store', version: 'v2' },
  ],
  externalHosts: ['api.payments.example'],
};

test('targets: bare names by the kinds a type takes, kind/name, -n, edges, external hosts', () => {
  assert.deepEqual(resolveTarget('latency', 'store', undefined, mesh), { kind: 'service', namespace: 'shop', name: 'store' });
  assert.deepEqual(resolveTarget('latency', 'store-v2', undefined, mesh), { kind: 'workload', namespace: 'shop', name: 'store-v2' });
  assert.deepEqual(resolveTarget('instance-crash', 'instance/store-v2-0', undefined, mesh), { kind: 'instance', namespace: 'shop', name: 'store-v2-0' });
  assert.deepEqual(resolveTarget('latency', 'api', 'other', mesh), { kind: 'service', namespace: 'other', name: 'api' });
  assert.match(code(() => resolveTarget('latency', 'api', undefined, mesh)), /^E_CHAOS_TARGET: "api" is ambiguous: service api in other, service api in shop/);
  assert.deepEqual(resolveTarget('network-delay', 'front -> api', 'shop', mesh), {
    kind: 'edge', source: { kind: 'service', namespace: 'shop', name: 'front' }, destination: { kind: 'service', namespace: 'shop', name: 'api' },
  });
  assert.deepEqual(resolveTarget('external-outage', 'API.payments.example', undefined, mesh), { kind: 'external', namespace: '', name: 'api.payments.example' });
  assert.match(code(() => resolveTarget('instance-crash', 'store', undefined, mesh)), /store is a service; the target of instance-crash must be an instance/);
  assert.match(code(() => resolveTarget('latency', 'front->api', 'shop', mesh)), /latency does not take an edge/);
  assert.match(code(() => resolveTarget('bad-config', 'nosuch', undefined, mesh)), /no service named "nosuch" in the running mesh/);
  assert.match(code(() => resolveTarget('latency', 'pod2/x', undefined, mesh)), /unknown target kind "pod2"/);
  assert.deepEqual(instancesOf({ kind: 'service', namespace: 'shop', name: 'api' }, mesh).map((i) => i.id), ['api-v1-0.shop', 'api-v1-1.shop']);
  assert.deepEqual(hostNamesOf({ kind: 'service', namespace: 'shop', name: 'api' }, 'other'), ['api.shop', 'api.shop.svc', 'api.shop.svc.cluster.local']);
});

test('ground truth: what diagnosis should name for each kind of fault', () => {
  const svc = { kind: 'service' as const, namespace: 'shop', name: 'store' };
  assert.equal(expectedCause('latency', svc, {}).label, 'service store.shop (slow)');
  assert.deepEqual(expectedCause('bad-version', svc, { version: 'v9' }), { kind: 'workload', namespace: 'shop', name: 'store-v9', category: 'bad-version', label: 'workload store-v9.shop (bad version)' });
  const config = { kind: 'config' as const, resource: { kind: 'VirtualService', namespace: 'shop', name: 'store' }, version: 7 };
  assert.equal(expectedCause('bad-config', svc, {}, config).label, 'config change VirtualService shop/store (version 7)');
  assert.equal(expectedCause('pool-exhaustion', svc, {}).category, 'overload');
  const dr = { kind: 'config' as const, resource: { kind: 'DestinationRule', namespace: 'shop', name: 'store' }, version: 8 };
  assert.deepEqual(expectedCause('pool-exhaustion', svc, {}, dr), { ...svc, category: 'overload', label: 'service store.shop (overload)', alsoRight: [dr] });
  const edge = resolveTarget('network-delay', 'front->store', 'shop', mesh);
  assert.equal(expectedCause('network-delay', edge, {}).label, 'edge service front.shop -> service store.shop (network)');
  assert.equal(expectedCause('external-outage', { kind: 'external', namespace: '', name: 'api.payments.example' }, {}).label, 'external host api.payments.example (outage)');
});
