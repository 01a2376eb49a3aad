import type { ComponentSchema } from '../../util/state-database.js';

// The incidents tables in the state directory's SQLite database (`<state>/meshmedic.db`, shared
// with chaos's injections and, later, recovery's actions). Each component versions its own
// tables in `schema_versions` (created by whoever comes first), so one database holds them all
// and each migrates on its own.

export const COMPONENT = 'incidents';
export const SCHEMA_VERSION = 1;

const MIGRATIONS: Record<number, string> = {
  1: `
    CREATE TABLE incidents (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      namespace TEXT NOT NULL,
      subject TEXT NOT NULL,             -- what failed first: "service reviews.bookinfo"
      status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
      opened_at INTEGER NOT NULL,        -- ms since the epoch
      onset_at INTEGER NOT NULL,         -- when the anomaly began, as far as the signals tell
      closed_at INTEGER,
      updated_at INTEGER NOT NULL
    );
    CREATE INDEX incidents_status ON incidents (status);
    CREATE TABLE incident_detections (
      incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
      check_name TEXT NOT NULL,
      subject TEXT NOT NULL,
      namespace TEXT NOT NULL,
      value REAL NOT NULL,
      threshold REAL NOT NULL,
      window_text TEXT NOT NULL,
      first_at INTEGER NOT NULL,
      last_at INTEGER NOT NULL,
      count INTEGER NOT NULL,
      text TEXT,
      PRIMARY KEY (incident_id, check_name, subject)
    );
    CREATE TABLE incident_causes (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
      rank INTEGER NOT NULL,             -- 1 = top cause
      kind TEXT NOT NULL,                -- CauseKind
      score REAL NOT NULL,
      mechanism TEXT,
      summary TEXT NOT NULL,
      target TEXT NOT NULL,              -- JSON: CauseTarget
      ranked_at INTEGER NOT NULL
    );
    CREATE INDEX incident_causes_incident ON incident_causes (incident_id, rank);
    CREATE TABLE incident_evidence (
      cause_seq INTEGER NOT NULL REFERENCES incident_causes (seq) ON DELETE CASCADE,
      position INTEGER NOT NULL,
      signal TEXT NOT NULL,
      text TEXT NOT NULL,
      figures TEXT NOT NULL,             -- JSON
      query TEXT,
      PRIMARY KEY (cause_seq, position)
    );
    CREATE TABLE incident_timeline (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
      at INTEGER NOT NULL,
      kind TEXT NOT NULL,
      text TEXT NOT NULL,
      data TEXT                          -- JSON
    );
    CREATE INDEX incident_timeline_incident ON incident_timeline (incident_id, seq);
  `,
};

export const INCIDENTS_SCHEMA: ComponentSchema = { component: COMPONENT, version: SCHEMA_VERSION, migrations: MIGRATIONS };
