import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { cause, mesh, NS, openIncident, put, type Mesh } from './fixture.js';

// Recovery of a security-policy cause on a real config store: revert-config puts back what the
// blamed store version did to the policy: a policy it created is deleted, an edited one gets its
// previous spec back (what chaos's bad-authz does, and what a person's wrong edit does).

const NOW = 1_795_000_000_000;
const meshes: Mesh[] = [];
after(async () => {
  for (const m of meshes) await m.close();
});

const policy = (principal: string) => `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: reviews-callers, namespace: ${NS}}
spec:
  selector: {matchLabels: {app: reviews}}
  action: ALLOW
  rules: [{from: [{source: {principals: ["${principal}"]}}]}]
`;

const blame = (version: number) => cause({ kind: 'security-policy', namespace: NS, service: 'reviews', resource: { kind: 'AuthorizationPolicy', namespace: NS, name: 'reviews-callers', configVersion: version } }, 'denied');

describe('revert-config for a security-policy cause', () => {
  test('a policy the change created is deleted (and kept to roll the delete back)', async () => {
    const m = await mesh({ clock: { now: () => NOW } });
    meshes.push(m);
    const version = await put(m.cp, policy('cluster.local/ns/bookinfo/sa/nobody'));
    openIncident(m.cp, [blame(version)], NOW);
    const plan = m.cp.recovery.plan({});
    assert.deepEqual(plan.actions.map((a) => a.kind), ['revert-config'], JSON.stringify(plan));
    const [a] = plan.actions;
    assert.equal(a.rejected, undefined, a.rejected);
    assert.equal(a.summary, `revert config version ${version} (AuthorizationPolicy ${NS}/reviews-callers: delete it)`);
    assert.deepEqual([a.config[0].op, a.config[0].kind, a.config[0].name], ['delete', 'AuthorizationPolicy', 'reviews-callers']);
    assert.equal((a.config[0].previous as any).spec.rules[0].from[0].source.principals[0], 'cluster.local/ns/bookinfo/sa/nobody');
  });

  test('an edited policy gets its previous spec back', async () => {
    const m = await mesh({ clock: { now: () => NOW } }, policy('cluster.local/ns/bookinfo/sa/bookinfo-productpage'));
    meshes.push(m);
    const version = await put(m.cp, policy('cluster.local/ns/bookinfo/sa/bookinfo-productpag'));
    openIncident(m.cp, [blame(version)], NOW);
    const [a] = m.cp.recovery.plan({}).actions;
    assert.equal(a.kind, 'revert-config');
    assert.match(a.summary, /AuthorizationPolicy bookinfo\/reviews-callers: restore the previous spec/);
    assert.equal(a.config[0].op, 'apply');
    assert.deepEqual(parse(a.yaml!).spec.rules[0].from[0].source.principals, ['cluster.local/ns/bookinfo/sa/bookinfo-productpage'], 'the YAML applied is the spec before the typo');
    assert.deepEqual((a.config[0].previous as any).spec.rules[0].from[0].source.principals, ['cluster.local/ns/bookinfo/sa/bookinfo-productpag'], 'rollback puts back what is in force now');
  });
});
