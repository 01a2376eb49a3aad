import type Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { openStateDatabase } from '../../util/state-database.js';
import type { CauseTarget, Detection, Incident, IncidentStatus, IncidentSummary, RankedCause, TimelineEntry } from '../model.js';

export type { IncidentSummary } from '../model.js';
import { INCIDENTS_SCHEMA } from './schema.js';

// Incidents in SQLite: one row per incident, its detections (one per check and subject, with
// first and last time and a count), its ranked causes with their evidence (replaced whole at
// every ranking: the timeline keeps how the top cause moved), and its timeline. The control
// plane owns the writing handle; the CLI may open the file read-only when no mesh runs.

export class IncidentStoreError extends Error {
  constructor(readonly code: 'E_INCIDENTS_NO_DATABASE' | 'E_INCIDENT_NOT_FOUND', message: string) {
    super(message);
    this.name = 'IncidentStoreError';
  }
}

interface IncidentRow {
  id: string;
  namespace: string;
  subject: string;
  status: IncidentStatus;
  opened_at: number;
  onset_at: number;
  closed_at: number | null;
}

export class IncidentStore {
  private readonly db: Database.Database;

  constructor(file: string, opts: { readonly?: boolean } = {}) {
    if (opts.readonly && !existsSync(file)) throw new IncidentStoreError('E_INCIDENTS_NO_DATABASE', `no incidents database at ${file}`);
    this.db = openStateDatabase(file, INCIDENTS_SCHEMA, opts);
    this.db.pragma('foreign_keys = ON');
  }

  close(): void {
    this.db.close();
  }

  /** A new id, unique in this database: `i<seq>`. */
  nextId(): string {
    const row = this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'incidents'").get() as { seq: number } | undefined;
    return `i${(row?.seq ?? 0) + 1}`;
  }

  insert(i: Incident): void {
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO incidents (id, namespace, subject, status, opened_at, onset_at, closed_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(i.id, i.namespace, i.subject, i.status, i.openedAt, i.onsetAt, i.closedAt ?? null, i.openedAt);
      for (const d of i.detections) this.recordDetection(i.id, d);
      for (const t of i.timeline) this.addTimeline(i.id, t);
    })();
  }

  recordDetection(incidentId: string, d: Detection): void {
    this.db
      .prepare(
        `INSERT INTO incident_detections (incident_id, check_name, subject, namespace, value, threshold, window_text, first_at, last_at, count, text)
         VALUES (@id, @check, @subject, @namespace, @value, @threshold, @window, @at, @at, 1, @text)
         ON CONFLICT (incident_id, check_name, subject) DO UPDATE SET value = excluded.value, threshold = excluded.threshold, last_at = excluded.last_at, count = count + 1, text = excluded.text`,
      )
      .run({ id: incidentId, check: d.check, subject: d.subject, namespace: d.namespace, value: d.value, threshold: d.threshold, window: d.window, at: d.at, text: d.text ?? null });
  }

  addTimeline(incidentId: string, t: TimelineEntry): void {
    this.db.prepare('INSERT INTO incident_timeline (incident_id, at, kind, text, data) VALUES (?, ?, ?, ?, ?)').run(incidentId, t.at, t.kind, t.text, t.data ? JSON.stringify(t.data) : null);
  }

  /** Replaces the ranked causes of an incident. */
  saveCauses(incidentId: string, causes: readonly RankedCause[], at: number): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM incident_causes WHERE incident_id = ?').run(incidentId);
      const insertCause = this.db.prepare('INSERT INTO incident_causes (incident_id, rank, kind, score, mechanism, summary, target, ranked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
      const insertEvidence = this.db.prepare('INSERT INTO incident_evidence (cause_seq, position, signal, text, figures, query) VALUES (?, ?, ?, ?, ?, ?)');
      causes.forEach((c, rank) => {
        const seq = insertCause.run(incidentId, rank + 1, c.target.kind, c.score, c.mechanism ?? null, c.summary, JSON.stringify(c.target), at).lastInsertRowid;
        c.evidence.forEach((e, pos) => insertEvidence.run(seq, pos, e.signal, e.text, JSON.stringify(e.figures), e.query ?? null));
      });
      this.db.prepare('UPDATE incidents SET updated_at = ? WHERE id = ?').run(at, incidentId);
    })();
  }

  markClosed(incidentId: string, at: number): void {
    this.db.prepare("UPDATE incidents SET status = 'closed', closed_at = ?, updated_at = ? WHERE id = ?").run(at, at, incidentId);
  }

  get(id: string): Incident | undefined {
    const row = this.db.prepare('SELECT * FROM incidents WHERE id = ?').get(id) as IncidentRow | undefined;
    return row && this.full(row);
  }

  /** Newest first. */
  list(opts: { status?: IncidentStatus; namespace?: string; limit?: number } = {}): IncidentSummary[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (opts.status) where.push('status = ?'), args.push(opts.status);
    if (opts.namespace) where.push('namespace = ?'), args.push(opts.namespace);
    const rows = this.db.prepare(`SELECT * FROM incidents ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`).all(...args, opts.limit ?? 100) as IncidentRow[];
    const count = this.db.prepare('SELECT COUNT(*) AS n FROM incident_detections WHERE incident_id = ?');
    const top = this.db.prepare('SELECT summary, score, kind, target FROM incident_causes WHERE incident_id = ? AND rank = 1');
    return rows.map((r) => {
      const t = top.get(r.id) as { summary: string; score: number; kind: string; target: string } | undefined;
      return {
        ...base(r),
        detections: (count.get(r.id) as { n: number }).n,
        ...(t && { topCause: { summary: t.summary, score: t.score, kind: t.kind, target: JSON.parse(t.target) as CauseTarget } }),
      };
    });
  }

  /** Incidents still open (to resume after a restart). */
  openIncidents(): Incident[] {
    const rows = this.db.prepare("SELECT * FROM incidents WHERE status = 'open' ORDER BY seq").all() as IncidentRow[];
    return rows.map((r) => this.full(r));
  }

  private full(r: IncidentRow): Incident {
    const detections = (this.db.prepare('SELECT * FROM incident_detections WHERE incident_id = ? ORDER BY first_at, check_name, subject').all(r.id) as Array<Record<string, any>>).map(
      (d): Detection => ({ check: d.check_name, subject: d.subject, namespace: d.namespace, value: d.value, threshold: d.threshold, window: d.window_text, at: d.first_at, ...(d.text && { text: d.text }) }),
    );
    const causeRows = this.db.prepare('SELECT * FROM incident_causes WHERE incident_id = ? ORDER BY rank').all(r.id) as Array<Record<string, any>>;
    const ev = this.db.prepare('SELECT * FROM incident_evidence WHERE cause_seq = ? ORDER BY position');
    const causes: RankedCause[] = causeRows.map((c) => ({
      target: JSON.parse(c.target),
      ...(c.mechanism && { mechanism: c.mechanism }),
      score: c.score,
      summary: c.summary,
      evidence: (ev.all(c.seq) as Array<Record<string, any>>).map((e) => ({ signal: e.signal, text: e.text, figures: JSON.parse(e.figures), ...(e.query && { query: e.query }) })),
    }));
    const timeline = (this.db.prepare('SELECT * FROM incident_timeline WHERE incident_id = ? ORDER BY seq').all(r.id) as Array<Record<string, any>>).map(
      (t): TimelineEntry => ({ at: t.at, kind: t.kind, text: t.text, ...(t.data && { data: JSON.parse(t.data) }) }),
    );
    return { ...base(r), detections, causes, timeline };
  }
}

function base(r: IncidentRow): Pick<Incident, 'id' | 'status' | 'namespace' | 'subject' | 'openedAt' | 'onsetAt' | 'closedAt'> {
  return { id: r.id, status: r.status, namespace: r.namespace, subject: r.subject, openedAt: r.opened_at, onsetAt: r.onset_at, ...(r.closed_at !== null && { closedAt: r.closed_at }) };
}
