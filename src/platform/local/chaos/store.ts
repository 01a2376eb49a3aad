import type Database from 'better-sqlite3';
import { join } from 'node:path';
import { openStateDatabase, schemaVersionOf } from '../../../util/state-database.js';
import type { Injection, InjectionState } from './types.js';

// The ground truth of every chaos injection, in the state directory's SQLite database
// (`<state>/meshmedic.db`, shared with the other records meshmedic keeps: incidents later).
// The mesh daemon writes; the CLI reads (`chaos list` works with the mesh down); opening and
// migrating: src/util/state-database.ts.

export const DATABASE_FILE = 'meshmedic.db';
const COMPONENT = 'chaos';
const SCHEMA_VERSION = 1;

const MIGRATIONS: Record<number, string> = {
  1: `
    CREATE TABLE chaos_injections (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      type TEXT NOT NULL,
      target_kind TEXT NOT NULL,
      target_namespace TEXT NOT NULL,
      target_name TEXT NOT NULL,
      target TEXT NOT NULL,          -- JSON: the resolved target (chaos/types.ts Target)
      params TEXT NOT NULL,          -- JSON: parsed parameters
      expected_cause TEXT NOT NULL,  -- JSON: the root cause diagnosis should name
      state TEXT NOT NULL CHECK (state IN ('active', 'cleared', 'expired', 'failed', 'abandoned')),
      started_at INTEGER NOT NULL,   -- ms since the epoch
      ends_at INTEGER NOT NULL,      -- when --duration runs out
      ended_at INTEGER,
      end_reason TEXT,
      effects TEXT NOT NULL,         -- JSON: what was done (processes, pids, config versions)
      revert TEXT NOT NULL           -- JSON: the steps that undo it
    );
    CREATE INDEX chaos_injections_state ON chaos_injections (state);
  `,
};

interface Row {
  id: string;
  type: string;
  target: string;
  params: string;
  expected_cause: string;
  state: string;
  started_at: number;
  ends_at: number;
  ended_at: number | null;
  end_reason: string | null;
  effects: string;
  revert: string;
}

export function databasePath(stateRoot: string): string {
  return join(stateRoot, DATABASE_FILE);
}

export class InjectionStore {
  private readonly db: Database.Database;

  /** `readonly`: open an existing database for reading (the CLI); throws when there is none. */
  constructor(file: string, opts: { readonly?: boolean } = {}) {
    this.db = openStateDatabase(file, { component: COMPONENT, version: SCHEMA_VERSION, migrations: MIGRATIONS }, opts);
  }

  schemaVersion(): number {
    return schemaVersionOf(this.db, COMPONENT);
  }

  /** A new id, unique in this database: `c<seq>` (short enough to type). */
  nextId(): string {
    const row = this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'chaos_injections'").get() as { seq: number } | undefined;
    return `c${(row?.seq ?? 0) + 1}`;
  }

  insert(inj: Injection): void {
    const t = inj.target;
    const [kind, ns, name] =
      t.kind === 'edge' ? ['edge', t.source.namespace, `${t.source.name}->${t.destination.name}`] : t.kind === 'config' ? ['config', t.resource.namespace, `${t.resource.kind}/${t.resource.name}`] : [t.kind, t.namespace, t.name];
    this.db
      .prepare(
        `INSERT INTO chaos_injections (id, type, target_kind, target_namespace, target_name, target, params, expected_cause, state, started_at, ends_at, ended_at, end_reason, effects, revert)
         VALUES (@id, @type, @kind, @ns, @name, @target, @params, @cause, @state, @startedAt, @endsAt, @endedAt, @endReason, @effects, @revert)`,
      )
      .run({
        id: inj.id, type: inj.type, kind, ns, name, target: JSON.stringify(t), params: JSON.stringify(inj.params), cause: JSON.stringify(inj.expectedCause),
        state: inj.state, startedAt: inj.startedAt, endsAt: inj.endsAt, endedAt: inj.endedAt ?? null, endReason: inj.endReason ?? null,
        effects: JSON.stringify(inj.effects), revert: JSON.stringify(inj.revert),
      });
  }

  /** Records the end of an injection (cleared, expired, failed, abandoned). */
  end(id: string, state: Exclude<InjectionState, 'active'>, at: number, reason: string): void {
    this.db.prepare('UPDATE chaos_injections SET state = ?, ended_at = ?, end_reason = ? WHERE id = ?').run(state, at, reason, id);
  }

  get(id: string): Injection | undefined {
    const row = this.db.prepare('SELECT * FROM chaos_injections WHERE id = ?').get(id) as Row | undefined;
    return row && fromRow(row);
  }

  /** Newest first; `active` only the ones in force. */
  list(opts: { active?: boolean; limit?: number } = {}): Injection[] {
    const where = opts.active ? "WHERE state = 'active'" : '';
    const rows = this.db.prepare(`SELECT * FROM chaos_injections ${where} ORDER BY seq DESC LIMIT ?`).all(opts.limit ?? 1000) as Row[];
    return rows.map(fromRow);
  }

  close(): void {
    this.db.close();
  }
}

function fromRow(r: Row): Injection {
  return {
    id: r.id,
    type: r.type as Injection['type'],
    target: JSON.parse(r.target),
    params: JSON.parse(r.params),
    expectedCause: JSON.parse(r.expected_cause),
    state: r.state as InjectionState,
    startedAt: r.started_at,
    endsAt: r.ends_at,
    ...(r.ended_at !== null && { endedAt: r.ended_at }),
    ...(r.end_reason !== null && { endReason: r.end_reason }),
    effects: JSON.parse(r.effects),
    revert: JSON.parse(r.revert),
  };
}
