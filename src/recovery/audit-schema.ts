import type { ComponentSchema } from '../util/state-database.js';

// Recovery's tables in the state directory's SQLite database (`<state>/meshmedic.db`, shared
// with incidents and chaos): versioned in `schema_versions` under the component 'recovery', so
// it migrates on its own, as the incidents tables do.

export const COMPONENT = 'recovery';
export const SCHEMA_VERSION = 1;

const MIGRATIONS: Record<number, string> = {
  1: `
    CREATE TABLE recovery_actions (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,            -- a<seq>
      incident_id TEXT NOT NULL,
      position INTEGER NOT NULL,          -- order in the incident's plan
      kind TEXT NOT NULL,                 -- ActionKind
      state TEXT NOT NULL,                -- ActionState
      mode TEXT NOT NULL CHECK (mode IN ('auto', 'manual')),
      created_at INTEGER NOT NULL,
      applied_at INTEGER,
      updated_at INTEGER NOT NULL,
      body TEXT NOT NULL                  -- JSON: the whole RecoveryAction
    );
    CREATE INDEX recovery_actions_incident ON recovery_actions (incident_id, position);
    CREATE INDEX recovery_actions_state ON recovery_actions (state);
    -- Append-only: every transition of every action, written before what it announces is done.
    CREATE TABLE recovery_audit (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      action_id TEXT NOT NULL,
      at INTEGER NOT NULL,
      state TEXT NOT NULL,
      text TEXT NOT NULL
    );
    CREATE INDEX recovery_audit_action ON recovery_audit (action_id, seq);
  `,
};

export const RECOVERY_SCHEMA: ComponentSchema = { component: COMPONENT, version: SCHEMA_VERSION, migrations: MIGRATIONS };
