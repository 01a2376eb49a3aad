import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databasePath, InjectionStore } from '../../src/platform/local/chaos/store.js';
import type { Injection } from '../../src/platform/local/chaos/types.js';

// The ground-truth store: SQLite in the state directory, versioned schema, records that
// outlive the process that wrote them, readable while the writer has it open.

const dir = mkdtempSync(join(tmpdir(), 'meshmedic-chaos-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function injection(id: string, overrides: Partial<Injection> = {}): Injection {
  return {
    id, type: 'latency', target: { kind: 'service', namespace: 'shop', name: 'api' }, params: { delayMs: 200, percent: 100 },
    expectedCause: { kind: 'service', namespace: 'shop', name: 'api', category: 'latency', label: 'service api.shop (slow)' },
    state: 'active', startedAt: 1_000, endsAt: 61_000, effects: { instances: ['api-v1-0.shop'] }, revert: [{ op: 'app-faults', instances: ['api-v1-0.shop'] }],
    ...overrides,
  };
}

test('records survive reopening, list newest first, end() records how it ended', () => {
  const file = databasePath(join(dir, 'a'));
  const store = new InjectionStore(file);
  assert.equal(store.schemaVersion(), 1);
  assert.equal(store.nextId(), 'c1');
  store.insert(injection('c1'));
  assert.equal(store.nextId(), 'c2');
  store.insert(injection('c2', { type: 'network-delay', target: { kind: 'edge', source: { kind: 'service', namespace: 'shop', name: 'front' }, destination: { kind: 'service', namespace: 'shop', name: 'api' } } }));
  store.end('c1', 'expired', 61_000, 'its duration ran out');
  // A reader while the writer still has it open (the CLI while the daemon runs).
  const reader = new InjectionStore(file, { readonly: true });
  assert.deepEqual(reader.list({ active: true }).map((i) => i.id), ['c2']);
  reader.close();
  store.close();

  const again = new InjectionStore(file);
  assert.deepEqual(again.list().map((i) => [i.id, i.state]), [['c2', 'active'], ['c1', 'expired']]);
  const c1 = again.get('c1')!;
  assert.deepEqual(c1, { ...injection('c1'), state: 'expired', endedAt: 61_000, endReason: 'its duration ran out' });
  assert.equal(again.get('nope'), undefined);
  assert.equal(again.nextId(), 'c3');
  again.close();

  // The flat columns are there for SQL readers (diagnosis, the benchmark).
  const db = new Database(file, { readonly: true });
  assert.deepEqual(db.prepare('SELECT id, target_kind, target_namespace, target_name FROM chaos_injections ORDER BY seq').all(), [
    { id: 'c1', target_kind: 'service', target_namespace: 'shop', target_name: 'api' },
    { id: 'c2', target_kind: 'edge', target_namespace: 'shop', target_name: 'front->api' },
  ]);
  db.close();
  assert.equal(statSync(file).mode & 0o777, 0o600);
});

test('the schema version is per component, and a newer one is refused', () => {
  const file = databasePath(join(dir, 'b'));
  new InjectionStore(file).close();
  const db = new Database(file);
  // Another component's tables in the same database are left alone.
  db.exec("INSERT INTO schema_versions (component, version) VALUES ('incidents', 3)");
  new InjectionStore(file).close();
  assert.deepEqual(db.prepare('SELECT component, version FROM schema_versions ORDER BY component').all(), [{ component: 'chaos', version: 1 }, { component: 'incidents', version: 3 }]);
  db.exec("UPDATE schema_versions SET version = 99 WHERE component = 'chaos'");
  db.close();
  assert.throws(() => new InjectionStore(file), /chaos tables are at schema version 99, newer than this meshmedic \(1\)/);
});

test('opening for reading needs an existing database', () => {
  assert.throws(() => new InjectionStore(databasePath(join(dir, 'none')), { readonly: true }));
});
