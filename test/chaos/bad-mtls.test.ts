import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { parseText } from '../../src/config/loader.js';
import { resolvePeerAuthentication } from '../../src/security/peer-authentication.js';
import { ChaosError } from '../../src/platform/local/chaos/errors.js';
import { callerTlsDestinationRule, freePeerAuthenticationName, wrongPeerAuthentication } from '../../src/platform/local/chaos/faults/mtls-faults.js';
import { expectedCause, recordedTarget } from '../../src/platform/local/chaos/ground-truth.js';
import { parseParams } from '../../src/platform/local/chaos/params.js';
import type { StoredResource } from '../../src/platform/local/chaos/control-plane-client.js';
import type { ConfigRef, TargetRef } from '../../src/platform/local/chaos/types.js';

// The bad-mtls fault without a mesh: its flags, the two changes it makes (the callers'
// DestinationRule tls, then the PeerAuthentication that clashes with it), checked with the real
// loader and PeerAuthentication resolution, and the ground truth (the PeerAuthentication).

const store: TargetRef = { kind: 'service', namespace: 'shop', name: 'store' };

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ChaosError);
    return `${e.code}: ${e.message}`;
  }
  assert.fail('no error');
};

const load = (raw: Record<string, unknown>) => {
  const r = parseText(stringify(raw), 'chaos.yaml', { defaultNamespace: 'default' });
  assert.deepEqual(r.errors, []);
  return r.resources;
};

test('flags: --mode strict (default) or disable', () => {
  assert.deepEqual(parseParams('bad-mtls', {}), { mode: 'strict' });
  assert.deepEqual(parseParams('bad-mtls', { mode: 'disable' }), { mode: 'disable' });
  assert.match(code(() => parseParams('bad-mtls', { mode: 'permissive' })), /--mode for bad-mtls must be one of strict, disable/);
});

for (const [mode, peer, callers] of [['strict', 'STRICT', 'DISABLE'], ['disable', 'DISABLE', 'ISTIO_MUTUAL']] as const) {
  test(`${mode}: the service's workloads resolve to ${peer}, its callers are told ${callers}`, () => {
    const pa = load(wrongPeerAuthentication(store, 'store-chaos-mtls', 'store', mode));
    assert.equal(resolvePeerAuthentication(pa, { namespace: 'shop', labels: { app: 'store', version: 'v1' } }, 'istio-system').mode, peer);
    assert.equal(resolvePeerAuthentication(pa, { namespace: 'shop', labels: { app: 'front' } }, 'istio-system').mode, 'PERMISSIVE', 'other workloads keep the default');
    const created = callerTlsDestinationRule(undefined, store, 'store', mode);
    assert.deepEqual(load(created)[0].spec, { host: 'store.shop.svc.cluster.local', trafficPolicy: { tls: { mode: callers } } });
  });
}

test('an existing DestinationRule keeps its subsets and pool; a subset\'s own tls follows the top level', () => {
  const dr = {
    apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'store-dr', namespace: 'shop' },
    spec: { host: 'store', trafficPolicy: { connectionPool: { tcp: { maxConnections: 10 } } }, subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' }, trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } }] },
  };
  const after = callerTlsDestinationRule(dr, store, 'ignored', 'strict');
  assert.equal(after.metadata.name, 'store-dr');
  assert.deepEqual(after.spec.trafficPolicy, { connectionPool: { tcp: { maxConnections: 10 } }, tls: { mode: 'DISABLE' } });
  assert.deepEqual(after.spec.subsets.map((s: { name: string; trafficPolicy?: unknown }) => [s.name, s.trafficPolicy]), [['v1', undefined], ['v2', { tls: { mode: 'DISABLE' } }]]);
  assert.equal(dr.spec.subsets[1].trafficPolicy!.tls.mode, 'ISTIO_MUTUAL', 'the input is not changed');
});

test('the PeerAuthentication name is free in its namespace', () => {
  const res = (name: string): StoredResource => ({ kind: 'PeerAuthentication', apiVersion: 'security.istio.io/v1', namespace: 'shop', name, raw: {} });
  assert.equal(freePeerAuthenticationName([], store), 'store-chaos-mtls');
  assert.equal(freePeerAuthenticationName([res('store-chaos-mtls')], store), 'store-chaos-mtls-2');
});

test('ground truth: the PeerAuthentication at the version it made (not the DestinationRule change before it)', () => {
  const config: ConfigRef = { kind: 'config', resource: { kind: 'PeerAuthentication', namespace: 'shop', name: 'store-chaos-mtls' }, version: 8 };
  assert.deepEqual(expectedCause('bad-mtls', store, { mode: 'strict' }, config), { ...config, category: 'security-policy', label: 'security policy PeerAuthentication shop/store-chaos-mtls (version 8)' });
  assert.deepEqual(recordedTarget('bad-mtls', store, config), config);
});
