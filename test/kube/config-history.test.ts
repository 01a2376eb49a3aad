import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { lookupKind } from '../../src/api/kinds.js';
import { configChangeSignals } from '../../src/diagnosis/signals/config-signals.js';
import { ConfigHistory, historyFile } from '../../src/platform/kube/config-history.js';
import { schemaVersionOf } from '../../src/util/state-database.js';

// The change history of a cluster's Istio config, in the state database: the first list is the
// baseline (no changes), a new spec is an update with the version before it as `previous`, an
// object that appears later is added (its revert is a delete), one gone from a later list is
// deleted, a status-only write is no version; it survives a restart (a later run reads it) and
// is per cluster; diagnosis's config-change signals read it as the config store's history.

const dir = mkdtempSync(join(tmpdir(), 'mm-kube-history-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const VS = lookupKind('networking.istio.io/v1', 'VirtualService')!;
const POD = lookupKind('v1', 'Pod')!;
const vs = (name: string, subset: string, rv: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'networking.istio.io/v1', kind: 'VirtualService',
  metadata: { name, namespace: 'bookinfo', resourceVersion: rv, generation: Number(rv), managedFields: [{ manager: 'kubectl' }] },
  spec: { hosts: [name], http: [{ route: [{ destination: { host: name, subset } }] }] },
  ...extra,
});

test('versions, baseline, added, deleted, status-only writes, per cluster, across restarts', () => {
  let t = 1000;
  const file = historyFile(dir);
  const h = new ConfigHistory(file, 'https://a:6443', () => t);
  assert.equal(h.listed(VS, [vs('ratings', 'v1', '10'), vs('reviews', 'v1', '11')]), 2);
  assert.deepEqual(h.changes(), [], 'the first list is the baseline');
  assert.equal(h.listed(POD, [{ metadata: { name: 'p', namespace: 'bookinfo' } }]), 0, 'pods have no history');
  // Istio's Gateway and the Gateway API's are two kinds: listing one does not delete the other.
  const gw = (apiVersion: string) => ({ apiVersion, kind: 'Gateway', metadata: { name: 'gw', namespace: 'bookinfo', resourceVersion: '5' }, spec: {} });
  h.listed(lookupKind('networking.istio.io/v1', 'Gateway')!, [gw('networking.istio.io/v1')]);
  h.listed(lookupKind('gateway.networking.k8s.io/v1', 'Gateway')!, [gw('gateway.networking.k8s.io/v1')]);
  h.listed(lookupKind('networking.istio.io/v1', 'Gateway')!, [gw('networking.istio.io/v1')]);
  assert.deepEqual(h.versionsOf('KubernetesGateway', 'bookinfo', 'gw').map((v) => v.deleted), [false]);

  t = 2000;
  assert.equal(h.event(VS, 'MODIFIED', vs('ratings', 'v9', '12')), true);
  assert.equal(h.event(VS, 'MODIFIED', vs('ratings', 'v9', '13', { status: { validationMessages: [] } })), false, 'status only: no version');
  assert.equal(h.event(VS, 'ADDED', vs('ratings-canary', 'v2', '14')), true);
  t = 3000;
  assert.equal(h.event(VS, 'DELETED', vs('reviews', 'v1', '15')), true);

  const changes = h.changes();
  assert.deepEqual(changes.map((c) => [c.type, c.resource.metadata.name, c.at]), [['updated', 'ratings', 2000], ['added', 'ratings-canary', 2000], ['deleted', 'reviews', 3000]]);
  assert.equal(changes[0].previous!.raw.spec.http[0].route[0].destination.subset, 'v1');
  assert.equal(changes[0].resource.raw.spec.http[0].route[0].destination.subset, 'v9');
  assert.equal(changes[0].resource.raw.metadata.managedFields, undefined);
  assert.deepEqual(h.changes(2500).map((c) => c.type), ['deleted']);
  const rows = h.versionsOf('VirtualService', 'bookinfo', 'ratings');
  assert.deepEqual(rows.map((r) => [r.resourceVersion, r.generation, r.seenBy, r.baseline]), [['10', 10, 'list', true], ['12', 12, 'watch', false]]);
  h.close();

  // A later run (restart): the history is there; a relist finds what changed while nobody watched.
  t = 4000;
  const again = new ConfigHistory(file, 'https://a:6443', () => t);
  assert.equal(again.changes().length, 3);
  assert.equal(again.listed(VS, [vs('ratings', 'v1', '20'), vs('details', 'v1', '21')]), 3, 'ratings back to v1, details new, ratings-canary gone');
  assert.deepEqual(again.changes(4000).map((c) => [c.type, c.resource.metadata.name]), [['updated', 'ratings'], ['added', 'details'], ['deleted', 'ratings-canary']]);
  // Diagnosis reads it as the store's history: the change to ratings speaks of ratings' host.
  const signals = configChangeSignals(again.changes(), 0, 5000);
  assert.ok(signals.some((s) => s.resource.name === 'ratings' && s.type === 'updated' && s.hosts.includes('ratings.bookinfo.svc.cluster.local')));
  // Another cluster in the same database starts with its own baseline.
  const other = new ConfigHistory(file, 'https://b:6443', () => t);
  other.listed(VS, [vs('ratings', 'v5', '1')]);
  assert.deepEqual(other.changes(), []);
  other.close();
  // Bounded: old versions that are not an object's latest go.
  t = 100_000;
  const pruned = again.prune(50_000);
  assert.ok(pruned >= 4, `pruned ${pruned}`);
  assert.equal(again.versionsOf('VirtualService', 'bookinfo', 'ratings').length, 1);
  again.close();

  const db = new Database(file, { readonly: true });
  assert.equal(schemaVersionOf(db, 'kube-history'), 1);
  db.close();
});
