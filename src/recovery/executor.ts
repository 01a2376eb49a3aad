import type { SloConfig } from '../diagnosis/detection/slo.js';
import type { CauseTarget, Incident, TimelineEntry } from '../diagnosis/model.js';
import type { Clock } from '../proxy/clock.js';
import type { ActionApplier } from './action-applier.js';
import type { AuditLog } from './audit-log.js';
import type { ActionState, PlannedAction, RecoveryAction, SloFigures } from './model.js';
import type { Plan } from './planner.js';
import type { RecoverySettings } from './settings.js';
import { watchFor, type SloProbe } from './slo-watch.js';

// Runs actions: each is written to the audit log as `applying` BEFORE anything is done, then
// applied, then `verifying` while the SLO is watched for the verification window (on the
// injected clock); verified when the SLO holds at the end of it (the action is kept), rolled
// back exactly when it does not, and the plan's next action is tried. Every step is also an
// entry of the incident's timeline. A control plane that dies mid-way resumes from the log
// (resume()).

export interface ExecutorDeps {
  audit: AuditLog;
  /** The local mesh's Applier, or another platform's (platform/kube-applier.ts). */
  applier: Pick<ActionApplier, 'apply' | 'undo'>;
  probe: SloProbe;
  clock: Clock;
  settings: () => RecoverySettings;
  slo: () => SloConfig;
  incident: (id: string) => Incident | undefined;
  timeline: (incidentId: string, e: TimelineEntry) => void;
  /** Whether an instance is ready (its readiness probe), for the quarantine policy. */
  ready: (namespace: string, instance: string) => boolean;
  log?: (line: string) => void;
}

const FINAL: readonly ActionState[] = ['verified', 'rolled-back', 'failed', 'rejected', 'superseded', 'expired'];

export class Executor {
  constructor(private readonly d: ExecutorDeps) {}

  /** Records a plan's actions (`proposed`, or `rejected` by a safety limit) with their timeline entries. */
  record(incidentId: string, plan: Plan, mode: 'auto' | 'manual'): RecoveryAction[] {
    const at = this.d.clock.now();
    return plan.actions.map((p: PlannedAction, i) => {
      const state: ActionState = p.rejected ? 'rejected' : 'proposed';
      const a = this.d.audit.create(p, { incidentId, position: i + 1, state, mode, at, ...(p.rejected && { reason: p.rejected }) });
      if (state === 'rejected') a.endedAt = at;
      this.entry(a, state === 'rejected' ? 'action-rejected' : 'action-proposed', state === 'rejected' ? `${a.id} rejected: ${a.summary}: ${p.rejected}` : `${a.id} proposed: ${a.summary}`);
      return a;
    });
  }

  /** Tries the actions in order until one is verified; the rest are superseded. */
  async runInOrder(actions: readonly RecoveryAction[], onStarted?: () => void): Promise<RecoveryAction | undefined> {
    try {
      for (let i = 0; i < actions.length; i++) {
        const current = this.d.audit.get(actions[i].id) ?? actions[i];
        if (current.state !== 'proposed') continue;
        const state = await this.attempt(current, onStarted);
        if (state === 'verified') {
          for (const rest of actions.slice(i + 1)) this.supersede(rest.id, `${current.id} was verified`);
          return this.d.audit.get(current.id);
        }
      }
      return undefined;
    } finally {
      onStarted?.();
    }
  }

  /** Applies one proposed action and verifies it; rolls it back when the SLO does not hold. */
  async attempt(a: RecoveryAction, onStarted?: () => void): Promise<ActionState> {
    const now = this.d.clock.now();
    const s = this.d.settings();
    const recent = this.d.audit.appliedSince(now - 60_000);
    if (recent >= s.maxActionsPerMinute) {
      return this.end(a, 'rejected', 'action-rejected', `rate limit: ${recent} action(s) applied in the last minute (at most ${s.maxActionsPerMinute})`);
    }
    const inc = this.d.incident(a.incidentId);
    a.before = await this.measure(a, inc, now);
    a.state = 'applying';
    a.appliedAt = this.d.clock.now();
    if (a.kind === 'quarantine-instance' && a.cause.instance) a.readyAtApply = this.d.ready(a.cause.namespace, a.cause.instance);
    this.d.audit.save(a, a.appliedAt, `applying: ${a.summary}`); // the audit log first: a crash from here on is recoverable
    try {
      await this.d.applier.apply(a);
    } catch (e) {
      return this.end(a, 'failed', 'action-failed', `applying failed (nothing left applied): ${(e as Error).message}`);
    }
    a.state = 'verifying';
    a.verifyUntil = this.d.clock.now() + this.windowMs();
    this.d.audit.save(a, this.d.clock.now(), `applied; verifying until ${new Date(a.verifyUntil).toISOString()}`);
    this.entry(a, 'action-applied', `${a.id} applied: ${a.summary}`);
    onStarted?.();
    return this.verify(a);
  }

  /** Waits for the end of the verification window, then keeps or rolls back. */
  async verify(a: RecoveryAction): Promise<ActionState> {
    if (a.kind === 'restart-instance' && a.liftedAt === undefined) await this.liftWhenReady(a);
    const wait = Math.max(0, (a.verifyUntil ?? 0) - this.d.clock.now());
    if (wait > 0) await new Promise<void>((r) => this.d.clock.setTimeout(r, wait));
    const latest = this.d.audit.get(a.id);
    if (latest && FINAL.includes(latest.state)) return latest.state; // rolled back by hand meanwhile
    const inc = this.d.incident(a.incidentId);
    const after = await this.measure(a, inc, this.d.clock.now(), latencyOf(a.before));
    a.after = after;
    // No traffic in the window is no proof: nothing failed because nothing was asked.
    const vanished = after.rps === 0 || (a.before !== undefined && a.before.rps >= 1 && after.rps < 0.1 * a.before.rps);
    if (after.healthy && !vanished) {
      return this.end(a, 'verified', 'action-verified', `verified: ${figures(after)} (before: ${a.before ? figures(a.before) : 'unknown'}); kept`);
    }
    const why = !after.healthy
      ? after.failing.map((f) => f.text ?? `${f.check} on ${f.subject}`).slice(0, 3).join('; ')
      : after.rps === 0 ? 'no traffic in the window to judge by' : `traffic vanished (${after.rps.toFixed(1)} rps, ${a.before!.rps.toFixed(1)} before)`;
    return this.rollback(a, `the SLO did not hold after ${Math.round(this.windowMs() / 1000)} s: ${why}`);
  }

  /**
   * A restart keeps its instance quarantined until the application answers its readiness probe
   * again (checked every 500 ms, at most the verification window); then the quarantine is lifted
   * and the window starts over, so the SLO is judged with the instance back in load balancing
   * (a service with one instance has no traffic to judge by while it is out).
   */
  private async liftWhenReady(a: RecoveryAction): Promise<void> {
    const t = a.cause;
    const deadline = a.verifyUntil ?? this.d.clock.now();
    while (t.instance && !this.d.ready(t.namespace, t.instance) && this.d.clock.now() < deadline) {
      await new Promise<void>((r) => this.d.clock.setTimeout(r, 500));
      const latest = this.d.audit.get(a.id);
      if (latest && FINAL.includes(latest.state)) return;
    }
    await this.d.applier.undo({ ...a, config: [], platform: a.platform.filter((p) => p.op === 'quarantine') });
    a.liftedAt = this.d.clock.now();
    a.verifyUntil = Math.max(a.verifyUntil ?? 0, a.liftedAt + this.windowMs());
    this.d.audit.save(a, a.liftedAt, `instance ${t.instance} is ${t.instance && this.d.ready(t.namespace, t.instance) ? 'ready' : 'still not ready'}: quarantine lifted; verifying until ${new Date(a.verifyUntil).toISOString()}`);
  }

  /**
   * The verification window: the setting, but at least one SLO window plus 3 s, so the window
   * the SLO is judged on starts after the change has reached the sidecars and the requests in
   * flight before it have ended.
   */
  private windowMs(): number {
    return Math.max(this.d.settings().verifyWindowMs, this.d.slo().windowMs + 3000);
  }

  /** Undoes an applied action (or one caught half-way) and records it rolled back. */
  async rollback(a: RecoveryAction, reason: string, state: 'rolled-back' | 'expired' = 'rolled-back'): Promise<ActionState> {
    try {
      await this.d.applier.undo(a);
    } catch (e) {
      return this.end(a, 'failed', 'action-failed', `${reason}; undoing it failed: ${(e as Error).message}`);
    }
    if (a.platform.some((p) => p.op === 'quarantine') && a.liftedAt === undefined) a.liftedAt = this.d.clock.now();
    return this.end(a, state, state === 'expired' ? 'action-expired' : 'action-rolled-back', `${state === 'expired' ? 'expired' : 'rolled back'}: ${reason}`);
  }

  supersede(id: string, reason: string): void {
    const a = this.d.audit.get(id);
    if (!a || a.state !== 'proposed') return;
    a.state = 'superseded';
    a.reason = reason;
    a.endedAt = this.d.clock.now();
    this.d.audit.save(a, a.endedAt, `superseded: ${reason}`);
  }

  /** After a restart of the control plane: an action caught `applying` is rolled back; one `verifying` goes on verifying. */
  async resume(a: RecoveryAction): Promise<ActionState> {
    const now = this.d.clock.now();
    a.resumedAt = now;
    if (a.state === 'applying') return this.rollback(a, 'the control plane stopped while applying it; undone on restart');
    // The metrics start again with the control plane: at least one SLO window of fresh samples before judging.
    a.verifyUntil = Math.max(a.verifyUntil ?? now, now + this.d.slo().windowMs + 1000);
    this.d.audit.save(a, now, `resumed after a control plane restart; verifying until ${new Date(a.verifyUntil).toISOString()}`);
    this.entry(a, 'action-resumed', `${a.id} resumed after a control plane restart: verifying until ${new Date(a.verifyUntil).toISOString()}`);
    return this.verify(a);
  }

  /** Whether the SLO of what an action for `cause` would watch holds now (nothing to treat). */
  async holds(cause: CauseTarget, inc: Incident): Promise<boolean> {
    const at = this.d.clock.now();
    const r = await this.measureFor(cause, '', inc.onsetAt, inc, at);
    return r.healthy && r.rps > 0;
  }

  private measure(a: RecoveryAction, inc: Incident | undefined, at: number, latencyAtApply?: Record<string, number>): Promise<SloFigures & { failing: Array<{ check: string; subject: string; value?: number; text?: string }> }> {
    return this.measureFor(a.cause, a.kind, a.createdAt, inc, at, latencyAtApply);
  }

  private async measureFor(cause: CauseTarget, kind: string, createdAt: number, inc: Incident | undefined, at: number, latencyAtApply?: Record<string, number>): Promise<SloFigures & { failing: Array<{ check: string; subject: string; value?: number; text?: string }> }> {
    const slo = this.d.slo();
    const w = { ...watchFor(cause, inc ?? { subject: '', namespace: cause.namespace, onsetAt: createdAt }, kind, slo), latencyAtApply };
    try {
      return await this.d.probe.measure(w, at);
    } catch (e) {
      return { at, errorRatio: 0, p99Ms: null, rps: 0, healthy: false, failing: [{ check: 'metrics', subject: 'metrics', text: `metrics unavailable: ${(e as Error).message}` }] };
    }
  }

  private end(a: RecoveryAction, state: ActionState, kind: string, reason: string): ActionState {
    a.state = state;
    a.reason = reason;
    a.endedAt = this.d.clock.now();
    if (a.after) a.after = strip(a.after);
    if (a.before) a.before = strip(a.before);
    this.d.audit.save(a, a.endedAt, reason);
    this.entry(a, kind, `${a.id} ${reason}`);
    this.d.log?.(`recovery: ${a.id} (${a.kind}) ${reason}`);
    return state;
  }

  private entry(a: RecoveryAction, kind: string, text: string): void {
    try {
      this.d.timeline(a.incidentId, { at: this.d.clock.now(), kind, text, data: { action: a.id, kind: a.kind, state: a.state, ...(a.before && { before: strip(a.before) }), ...(a.after && { after: strip(a.after) }) } });
    } catch (e) {
      this.d.log?.(`recovery: timeline of ${a.incidentId}: ${(e as Error).message}`);
    }
  }
}

/** The figures as stored (the detections behind them are in the reason). */
/** The latency detections failing when the action was applied, by subject (gone once `before` is stripped: after a restart the plain SLO judges). */
function latencyOf(before: (SloFigures & { failing?: Array<{ check: string; subject: string; value?: number }> }) | undefined): Record<string, number> | undefined {
  const slow = before?.failing?.filter((f) => f.check === 'latency' && typeof f.value === 'number');
  return slow?.length ? Object.fromEntries(slow.map((f) => [f.subject, f.value!])) : undefined;
}

function strip(f: SloFigures & { failing?: unknown }): SloFigures {
  return { at: f.at, errorRatio: f.errorRatio, p99Ms: f.p99Ms, rps: f.rps, healthy: f.healthy };
}

export function figures(f: SloFigures): string {
  return `errors ${(f.errorRatio * 100).toFixed(1)}%, p99 ${f.p99Ms === null ? '-' : `${Math.round(f.p99Ms)} ms`}, ${f.rps.toFixed(1)} rps, SLO ${f.healthy ? 'holds' : 'fails'}`;
}
