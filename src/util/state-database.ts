import Database from 'better-sqlite3';
import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

// The state directory's SQLite database (`<state>/meshmedic.db`) is shared by the components
// that keep records (chaos's injections, diagnosis's incidents, recovery's audit log). Each owns
// its tables and versions them under its own name in `schema_versions` (created by whoever
// comes first), so each migrates on its own. Writers use WAL (readers, such as the CLI, get in
// while the mesh writes) and wait for each other's locks instead of failing.

export interface ComponentSchema {
  component: string;
  version: number;
  /** The SQL that takes the tables from version n-1 to n. */
  migrations: Record<number, string>;
}

/** Opens (and for writers creates and migrates) the database; `readonly` needs it to exist. */
export function openStateDatabase(file: string, schema: ComponentSchema, opts: { readonly?: boolean } = {}): Database.Database {
  const memory = file === ':memory:';
  if (!opts.readonly && !memory) mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const db = new Database(file, { readonly: !!opts.readonly, fileMustExist: !!opts.readonly });
  if (opts.readonly) return db;
  if (!memory) chmodSync(file, 0o600); // like everything in the state directory: the owner's only
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  try {
    migrateComponent(db, schema);
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}

export function schemaVersionOf(db: Database.Database, component: string): number {
  const row = db.prepare('SELECT version FROM schema_versions WHERE component = ?').get(component) as { version: number } | undefined;
  return row?.version ?? 0;
}

export function migrateComponent(db: Database.Database, s: ComponentSchema): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)');
  const from = schemaVersionOf(db, s.component);
  if (from > s.version) throw new Error(`${s.component} tables are at schema version ${from}, newer than this meshmedic (${s.version})`);
  if (from === s.version) return;
  db.transaction(() => {
    for (let v = from + 1; v <= s.version; v++) db.exec(s.migrations[v]);
    db.prepare('INSERT INTO schema_versions (component, version) VALUES (?, ?) ON CONFLICT (component) DO UPDATE SET version = excluded.version').run(s.component, s.version);
  })();
}
