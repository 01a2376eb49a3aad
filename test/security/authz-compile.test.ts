import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuthzPolicy, ProxySnapshot } from '../../src/api/snapshot.js';
import { Sidecar } from '../../src/proxy/sidecar.js';
import { CompiledAuthorization, type AuthzRequest } from '../../src/security/authz/compiled-policies.js';
import { compilePath } from '../../src/security/authz/path-template.js';
import { compileIpBlocks } from '../../src/security/authz/value-match.js';
import { resolvePeerAuthentication } from '../../src/security/peer-authentication.js';
import { parseText } from '../../src/config/loader.js';

// The pieces under the matrix: path templates, IP blocks, the evaluator's decision names, the
// NACK of a policy that does not compile, and PeerAuthentication precedence with ties.

const req = (over: Partial<AuthzRequest> = {}): AuthzRequest => ({
  principal: 'cluster.local/ns/a/sa/x', sourceIp: '10.0.0.1', destinationIp: '10.0.0.2', destinationPort: 80, method: 'GET', host: 'svc:80', path: '/p',
  header: () => undefined, requestPrincipal: '', claim: () => undefined, sni: '', ...over,
});

test('path templates: {*} one segment, {**} the rest (one or more characters)', () => {
  const one = compilePath('/a/{*}/c');
  assert.equal(one('/a/b/c'), true);
  assert.equal(one('/a//c'), false);
  assert.equal(one('/a/b/x/c'), false);
  const rest = compilePath('/a/{**}');
  assert.equal(rest('/a/b/c/d'), true);
  assert.equal(rest('/a/'), false);
  assert.equal(compilePath('/a.b/{*}')('/aXb/c'), false, 'dots are literal');
});

test('ipBlocks: CIDR and single addresses, IPv4-mapped IPv6, IPv6 ranges', () => {
  const m = compileIpBlocks(['10.0.0.0/8', '192.168.1.5', 'fd00::/8'])!;
  assert.equal(m('10.3.4.5'), true);
  assert.equal(m('::ffff:10.3.4.5'), true);
  assert.equal(m('192.168.1.5'), true);
  assert.equal(m('192.168.1.6'), false);
  assert.equal(m('fd12::1'), true);
  assert.equal(m(''), false);
});

test('decision names: the DENY rule that matched, or none for an unmatched ALLOW set', () => {
  const policies: AuthzPolicy[] = [
    { name: 'deny-x', namespace: 'ns', action: 'DENY', rules: [{ to: [{ operation: { paths: ['/nope'] } }] }, { from: [{ source: { principals: ['*/sa/x'] } }] }] },
    { name: 'allow-y', namespace: 'ns', action: 'ALLOW', rules: [{ from: [{ source: { principals: ['*/sa/y'] } }] }] },
    { name: 'audit', namespace: 'ns', action: 'AUDIT', rules: [{}] },
  ];
  const c = new CompiledAuthorization(policies);
  assert.deepEqual(c.evaluate(req()), { allowed: false, matched: 'ns[ns]-policy[deny-x]-rule[1]', audited: ['ns[ns]-policy[audit]-rule[0]'] });
  assert.equal(c.evaluate(req({ principal: 'cluster.local/ns/a/sa/y' })).matched, 'ns[ns]-policy[allow-y]-rule[0]');
  assert.equal(c.evaluate(req({ principal: 'cluster.local/ns/a/sa/z' })).matched, 'none');
});

test('a policy that does not compile is rejected with the snapshot (NACK), the sidecar keeps none of it', () => {
  const sidecar = new Sidecar();
  const snapshot = (policies: unknown): ProxySnapshot =>
    ({ version: 'v', node: { id: 'n', instance: 'n', workload: 'w', namespace: 'ns', serviceAccount: 'sa', labels: {}, address: '127.10.31.40' }, listeners: [], routes: [], clusters: [], endpoints: [], authorization: { policies } }) as ProxySnapshot;
  const bad = sidecar.applySnapshot(snapshot([{ name: 'p', namespace: 'ns', action: 'ALLOW', rules: [{ from: 'everyone' }] }]));
  assert.equal(bad.ok, false);
  assert.match((bad as { error: string }).error, /authorization\.policies: do not compile/);
  assert.equal(sidecar.applySnapshot(snapshot([{ name: 'p', namespace: 'ns', action: 'ALLOW', rules: [] }])).ok, true);
});

test('PeerAuthentication: the oldest wins a level; UNSET inherits; port level only on selector policies', () => {
  const load = (yaml: string) => parseText(yaml, 't.yaml', { defaultNamespace: 'default' }).resources;
  const rs = load(`
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: a-older, namespace: app, creationTimestamp: "2024-01-01T00:00:00Z"}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: b-newer, namespace: app, creationTimestamp: "2025-01-01T00:00:00Z"}
spec: {mtls: {mode: DISABLE}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: ns-ports, namespace: other}
spec: {mtls: {mode: STRICT}, portLevelMtls: {"80": {mode: DISABLE}}}
`);
  const ordered = [...rs].sort((x, y) => String(x.metadata.creationTimestamp ?? '').localeCompare(String(y.metadata.creationTimestamp ?? '')));
  assert.equal(resolvePeerAuthentication(ordered, { namespace: 'app', labels: {} }, 'istio-system').mode, 'STRICT');
  const other = resolvePeerAuthentication(ordered, { namespace: 'other', labels: {} }, 'istio-system');
  assert.equal(other.mode, 'STRICT');
  assert.equal(other.ports.size, 0, 'portLevelMtls needs a selector');
  assert.equal(resolvePeerAuthentication([], { namespace: 'x', labels: {} }, 'istio-system').mode, 'PERMISSIVE');
});
