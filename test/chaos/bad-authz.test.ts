import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { parseText } from '../../src/config/loader.js';
import { CompiledAuthorization, type AuthzRequest } from '../../src/security/authz/compiled-policies.js';
import { selectAuthorizationPolicies } from '../../src/security/authz/policy-selection.js';
import { chaosErrorText as code } from '../local/chaos-error-text.js';
import { freePolicyName, nobodyPrincipal, wrongAuthorizationPolicy } from '../../src/platform/local/chaos/faults/authz-faults.js';
import { expectedCause, recordedTarget } from '../../src/platform/local/chaos/ground-truth.js';
import { checkRequest, parseParams } from '../../src/platform/local/chaos/params.js';
import { resolveTarget, type MeshView } from '../../src/platform/local/chaos/targets.js';
import type { ConfigRef, TargetRef } from '../../src/platform/local/chaos/types.js';
import type { StoredResource } from '../../src/platform/local/chaos/control-plane-client.js';

// The bad-authz fault without a mesh: its flags, the policy it writes (checked by the real
// config loader, policy selection and RBAC evaluator the sidecars use), its name next to
// existing policies, and the ground truth it records.

const store: TargetRef = { kind: 'service', namespace: 'shop', name: 'store' };

test('flags: --mode allow-nobody (default) or deny-all; nothing else', () => {
  assert.deepEqual(parseParams('bad-authz', {}), { mode: 'allow-nobody' });
  assert.deepEqual(parseParams('bad-authz', { mode: 'deny-all' }), { mode: 'deny-all' });
  assert.match(code(() => parseParams('bad-authz', { mode: 'open' })), /^E_CHAOS_PARAM: --mode for bad-authz must be one of allow-nobody, deny-all, got open/);
  assert.match(code(() => parseParams('bad-authz', { delay: '1s' })), /bad-authz does not take --delay/);
  assert.match(code(() => parseParams('bad-authz', { host: 'x' })), /bad-authz does not take --host/);
  assert.deepEqual(checkRequest({ type: 'bad-authz', target: 'store', params: { mode: 'deny-all' }, durationMs: 1000 }), { type: 'bad-authz', target: 'store', durationMs: 1000, params: { mode: 'deny-all' } });
});

test('targets: a service only', () => {
  const mesh: MeshView = { instances: [{ id: 'store-v1-0.shop', name: 'store-v1-0', namespace: 'shop', workload: 'store-v1', service: 'store', version: 'v1' }], externalHosts: [] };
  assert.deepEqual(resolveTarget('bad-authz', 'store', undefined, mesh), store);
  assert.match(code(() => resolveTarget('bad-authz', 'instance/store-v1-0', undefined, mesh)), /E_CHAOS_TARGET/);
});

/** The policy as the sidecars would enforce it: loaded as YAML, selected for a workload, compiled. */
function enforced(raw: Record<string, unknown>, workload: { namespace: string; labels: Record<string, string> }) {
  const { resources, errors } = parseText(stringify(raw), 'chaos.yaml', { defaultNamespace: 'default' });
  assert.deepEqual(errors, [], 'the policy loads without errors');
  const { policies } = selectAuthorizationPolicies(resources, workload, 'istio-system');
  return new CompiledAuthorization(policies);
}

const from = (principal: string): AuthzRequest => ({
  principal, sourceIp: '127.30.0.2', destinationIp: '127.30.0.3', destinationPort: 8080, method: 'GET', host: 'store:8080', path: '/',
  header: () => undefined, requestPrincipal: '', claim: () => undefined, sni: '',
});

for (const mode of ['allow-nobody', 'deny-all'] as const) {
  test(`${mode}: the policy selects the service's workloads only and refuses every caller, mTLS or plaintext`, () => {
    const raw = wrongAuthorizationPolicy(store, 'store-chaos-authz', 'store', mode);
    assert.equal(raw.apiVersion, 'security.istio.io/v1');
    assert.deepEqual(raw.metadata, { name: 'store-chaos-authz', namespace: 'shop' });
    const onStore = enforced(raw, { namespace: 'shop', labels: { app: 'store', version: 'v1' } });
    for (const p of ['cluster.local/ns/shop/sa/front', 'cluster.local/ns/other/sa/default', '']) {
      const d = onStore.evaluate(from(p));
      assert.equal(d.allowed, false, `${mode} lets ${p || 'plaintext'} through`);
      assert.equal(d.matched, mode === 'deny-all' ? 'ns[shop]-policy[store-chaos-authz]-rule[0]' : 'none');
    }
    assert.ok(enforced(raw, { namespace: 'shop', labels: { app: 'front', version: 'v1' } }).empty, 'front is not selected');
    assert.ok(enforced(raw, { namespace: 'other', labels: { app: 'store' } }).empty, 'another namespace is not selected');
  });
}

test('allow-nobody allows exactly its made-up principal (the mistake is who, not whether)', () => {
  const c = enforced(wrongAuthorizationPolicy(store, 'p', 'store', 'allow-nobody'), { namespace: 'shop', labels: { app: 'store' } });
  assert.equal(c.evaluate(from(nobodyPrincipal(store))).allowed, true);
});

test('the policy name is free: existing policies of the namespace are left alone', () => {
  const res = (ns: string, name: string): StoredResource => ({ kind: 'AuthorizationPolicy', apiVersion: 'security.istio.io/v1', namespace: ns, name, raw: {} });
  assert.equal(freePolicyName([], store), 'store-chaos-authz');
  assert.equal(freePolicyName([res('other', 'store-chaos-authz')], store), 'store-chaos-authz');
  assert.equal(freePolicyName([res('shop', 'store-chaos-authz'), res('shop', 'store-chaos-authz-2')], store), 'store-chaos-authz-3');
});

test('ground truth: the AuthorizationPolicy at the version it made, category security-policy', () => {
  const config: ConfigRef = { kind: 'config', resource: { kind: 'AuthorizationPolicy', namespace: 'shop', name: 'store-chaos-authz' }, version: 14 };
  const cause = expectedCause('bad-authz', store, { mode: 'allow-nobody' }, config);
  assert.deepEqual(cause, { ...config, category: 'security-policy', label: 'security policy AuthorizationPolicy shop/store-chaos-authz (version 14)' });
  assert.deepEqual(recordedTarget('bad-authz', store, config), config);
  // Before the change is made (no config yet) the service stands in; bad-config is unchanged.
  assert.equal(expectedCause('bad-authz', store, {}).label, 'service store.shop (security policy)');
  assert.equal(expectedCause('bad-config', store, {}, { ...config, resource: { ...config.resource, kind: 'VirtualService' } }).category, 'bad-config');
});
