import { targetKey, type Incident, type RankedCause } from '../diagnosis/model.js';
import type { PlanContext } from './actions/action.js';
import type { AuditLog } from './audit-log.js';
import type { Executor } from './executor.js';
import type { IncidentWork } from './incident-work.js';
import type { RecoveryAction } from './model.js';
import { planRecovery } from './planner.js';
import type { RecoverySettings } from './settings.js';

// When recovery plans for an open incident, and with which causes, and the round that applies it:
// the one policy of the local control plane's loop (recovery-service.ts) and of the in-cluster
// controller (kube-controller.ts).
// - nothing while an action of the incident is being applied or verified;
// - a verified action settles its cause; the incident stays open while anything else still fails
//   in the namespace (a second fault joins it): once another cause is on top, and what it is
//   about still fails now, it is planned for without the causes already treated (once a fix
//   holds, the ranking may still name the same fault by another of its faces);
// - the ranking must have settled for `stableCauseMs`, unless the top cause is decisive (score
//   >= `decisiveScore`) or the incident has waited `actWithinMs` for a first plan (two causes
//   trading places): each second waited is users failing, and verification rolls back an action
//   that does not help;
// - a plan already made for the current top cause: auto mode goes on with its proposals left.

export type ProposalDecision =
  | { kind: 'wait' }
  | { kind: 'plan'; causes: RankedCause[]; supersede: RecoveryAction[] }
  | { kind: 'continue'; pending: RecoveryAction[] };

export async function decideProposal(
  inc: Incident,
  actions: readonly RecoveryAction[],
  now: number,
  settings: RecoverySettings,
  /** Whether what an action for this cause would watch holds now (nothing left to treat). */
  holds: (cause: RankedCause) => Promise<boolean>,
): Promise<ProposalDecision> {
  const wait = { kind: 'wait' } as const;
  if (inc.causes.length === 0 || actions.some((a) => a.state === 'applying' || a.state === 'verifying')) return wait;
  const top = inc.causes[0];
  const treated = new Set(actions.filter((a) => a.state === 'verified').map((a) => targetKey(a.cause)));
  if (treated.has(targetKey(top.target))) return wait;
  const topSince = [...inc.timeline].reverse().find((e) => e.kind === 'top-cause')?.at ?? inc.openedAt;
  const decisive = top.score >= settings.decisiveScore;
  const waitedLong = actions.length === 0 && now - inc.openedAt >= settings.actWithinMs;
  if (!decisive && !waitedLong && now - topSince < settings.stableCauseMs) return wait;
  const pending = actions.filter((a) => a.state === 'proposed');
  const newest = Math.max(...actions.map((a) => a.createdAt), Number.NEGATIVE_INFINITY);
  if (actions.length > 0 && newest >= topSince) return settings.auto && pending.some((a) => a.mode === 'auto') ? { kind: 'continue', pending } : wait;
  if (treated.size > 0 && (await holds(top))) return wait;
  return { kind: 'plan', causes: inc.causes.filter((c) => !treated.has(targetKey(c.target))), supersede: pending };
}

export interface ProposalRoundDeps {
  audit: AuditLog;
  executor: Executor;
  busy: IncidentWork;
  settings: RecoverySettings;
  /** The planner's view for an incident (the platform's config and instances). */
  context(inc: Incident): PlanContext;
  /** Carries actions out in the background (auto mode). */
  run(incidentId: string, actions: RecoveryAction[]): void;
  log(line: string): void;
}

/**
 * One round of the loop over the open incidents: proposals of incidents that closed are
 * superseded; each open incident not being worked on is decided (above) and, when due, planned,
 * recorded (`proposed`) and, in auto mode, run.
 */
export async function proposalRound(open: readonly Incident[], now: number, d: ProposalRoundDeps): Promise<void> {
  const openIds = new Set(open.map((i) => i.id));
  for (const a of d.audit.inState('proposed')) if (!openIds.has(a.incidentId) && !d.busy.has(a.incidentId)) d.executor.supersede(a.id, `incident ${a.incidentId} closed`);
  for (const inc of open) {
    if (d.busy.has(inc.id)) continue;
    const decision = await decideProposal(inc, d.audit.byIncident(inc.id), now, d.settings, (c) => d.executor.holds(c.target, inc));
    if (decision.kind === 'continue') d.run(inc.id, decision.pending);
    if (decision.kind !== 'plan') continue;
    for (const old of decision.supersede) d.executor.supersede(old.id, 'the top cause changed');
    const plan = planRecovery({ ...inc, causes: decision.causes }, d.context(inc));
    for (const n of plan.notes) d.log(`${inc.id}: ${n}`);
    const recorded = d.executor.record(inc.id, plan, d.settings.auto ? 'auto' : 'manual');
    for (const a of recorded) d.log(`${inc.id}: ${a.id} ${a.state} (${a.kind}): ${a.summary}${a.reason ? `: ${a.reason}` : ''}`);
    if (d.settings.auto) d.run(inc.id, recorded);
  }
}
