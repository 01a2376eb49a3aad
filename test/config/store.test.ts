import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseText } from '../../src/config/loader.js';
import { ConfigStore, type Change } from '../../src/config/store.js';

const load = (yaml: string) => parseText(yaml, 'x.yaml', { defaultNamespace: 'default' }).resources;

test('the store versions every change, lists by kind and notifies watchers', () => {
  let clock = 1000;
  const store = new ConfigStore(() => clock);
  const seen: Array<{ version: number; changes: readonly Change[] }> = [];
  const stop = store.watch((changes, version) => seen.push({ version, changes }));
  const v1 = store.apply(load('apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: b, namespace: z}\n'));
  assert.equal(v1, 1);
  assert.deepEqual(store.list('Service').map((r) => r.metadata.name), ['a', 'b']);
  assert.deepEqual(store.list('Service', 'z').map((r) => r.metadata.name), ['b']);
  clock = 2000;
  const v2 = store.apply(load('apiVersion: v1\nkind: Service\nmetadata: {name: a, labels: {x: "1"}}\n'));
  assert.equal(v2, 2);
  assert.equal(store.get('Service', 'default', 'a')?.metadata.labels?.x, '1');
  const [upd] = store.changesSince(1);
  assert.equal(upd.type, 'updated');
  assert.equal(upd.previous?.metadata.labels, undefined); // the previous state is kept for revert
  assert.equal(upd.at, 2000);
  assert.equal(store.delete('Service', 'z', 'b'), 3);
  assert.equal(store.get('Service', 'z', 'b'), undefined);
  assert.deepEqual(seen.map((s) => [s.version, s.changes.map((c) => c.type)]), [[1, ['added', 'added']], [2, ['updated']], [3, ['deleted']]]);
  stop();
  store.apply(load('apiVersion: v1\nkind: Service\nmetadata: {name: c}\n'));
  assert.equal(seen.length, 3);
  assert.equal(store.version, 4);
});
