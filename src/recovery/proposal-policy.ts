import { targetKey, type Incident, type RankedCause } from '../diagnosis/model.js';
import type { RecoveryAction } from './model.js';
import type { RecoverySettings } from './settings.js';

// When recovery plans for an open incident, and with which causes: the one policy of the local
// control plane's loop (recovery-service.ts) and of the in-cluster controller (kube-controller.ts).
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
