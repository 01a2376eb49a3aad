import type Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { openStateDatabase } from '../util/state-database.js';
import { RecoveryError } from './errors.js';
import type { ActionState, PlannedAction, RecoveryAction } from './model.js';
import { RECOVERY_SCHEMA } from './audit-schema.js';

// The audit log: every action as it is now (one row, its JSON whole) and every transition it
// went through (append-only). The executor writes a transition BEFORE doing what it announces,
// so a control plane that dies mid-way finds on restart what it was doing (crash safety).

export interface AuditEntry {
  actionId: string;
  at: number;
  state: ActionState;
  text: string;
}

export class AuditLog {
  private readonly db: Database.Database;

  constructor(file: string, opts: { readonly?: boolean } = {}) {
    if (opts.readonly && !existsSync(file)) throw new RecoveryError('E_RECOVERY_ACTION_NOT_FOUND', `no recovery database at ${file}`);
    this.db = openStateDatabase(file, RECOVERY_SCHEMA, opts);
  }

  close(): void {
    this.db.close();
  }

  /** Records a planned action as a new row (its id is assigned here) and its first audit entry. */
  create(p: PlannedAction, extra: { incidentId: string; position: number; state: ActionState; mode: 'auto' | 'manual'; at: number; reason?: string }): RecoveryAction {
    return this.db.transaction(() => {
      const seqRow = this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'recovery_actions'").get() as { seq: number } | undefined;
      const id = `a${(seqRow?.seq ?? 0) + 1}`;
      const a: RecoveryAction = { ...p, id, incidentId: extra.incidentId, position: extra.position, state: extra.state, mode: extra.mode, createdAt: extra.at, ...(extra.reason && { reason: extra.reason }) };
      this.db
        .prepare('INSERT INTO recovery_actions (id, incident_id, position, kind, state, mode, created_at, applied_at, updated_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)')
        .run(id, a.incidentId, a.position, a.kind, a.state, a.mode, a.createdAt, a.createdAt, JSON.stringify(a));
      this.audit({ actionId: id, at: extra.at, state: a.state, text: extra.reason ?? a.summary });
      return a;
    })();
  }

  /** Writes the action's new form and the transition, in one transaction. */
  save(a: RecoveryAction, at: number, text: string): void {
    this.db.transaction(() => {
      this.db.prepare('UPDATE recovery_actions SET state = ?, applied_at = ?, updated_at = ?, body = ? WHERE id = ?').run(a.state, a.appliedAt ?? null, at, JSON.stringify(a), a.id);
      this.audit({ actionId: a.id, at, state: a.state, text });
    })();
  }

  get(id: string): RecoveryAction | undefined {
    const row = this.db.prepare('SELECT body FROM recovery_actions WHERE id = ?').get(id) as { body: string } | undefined;
    return row && (JSON.parse(row.body) as RecoveryAction);
  }

  byIncident(incidentId: string): RecoveryAction[] {
    return this.rows('SELECT body FROM recovery_actions WHERE incident_id = ? ORDER BY position, seq', incidentId);
  }

  inState(...states: ActionState[]): RecoveryAction[] {
    return this.rows(`SELECT body FROM recovery_actions WHERE state IN (${states.map(() => '?').join(', ')}) ORDER BY seq`, ...states);
  }

  /** Newest first. */
  list(limit = 100): RecoveryAction[] {
    return this.rows('SELECT body FROM recovery_actions ORDER BY seq DESC LIMIT ?', limit);
  }

  /** How many actions were applied at or after `since` (the rate limit). */
  appliedSince(since: number): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM recovery_actions WHERE applied_at >= ?').get(since) as { n: number }).n;
  }

  trail(actionId: string): AuditEntry[] {
    return (this.db.prepare('SELECT action_id, at, state, text FROM recovery_audit WHERE action_id = ? ORDER BY seq').all(actionId) as Array<{ action_id: string; at: number; state: ActionState; text: string }>).map((r) => ({
      actionId: r.action_id, at: r.at, state: r.state, text: r.text,
    }));
  }

  private audit(e: AuditEntry): void {
    this.db.prepare('INSERT INTO recovery_audit (action_id, at, state, text) VALUES (?, ?, ?, ?)').run(e.actionId, e.at, e.state, e.text);
  }

  private rows(sql: string, ...args: unknown[]): RecoveryAction[] {
    return (this.db.prepare(sql).all(...args) as Array<{ body: string }>).map((r) => JSON.parse(r.body) as RecoveryAction);
  }
}
