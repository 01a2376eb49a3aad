import { describeTarget, targetKey, type Incident } from '../diagnosis/model.js';
import { isSkip, treats, type PlanContext } from './actions/action.js';
import { ACTIONS } from './actions/registry.js';
import type { PlannedAction } from './model.js';
import { refusal } from './safety.js';

// From an incident's ranked causes to an ordered plan: for each of the top causes (best first),
// every action that treats it (in the registry's order), each checked against the safety
// limits. Actions a limit refuses stay in the plan, marked `rejected` with the reason; causes
// no action treats, and actions that do not apply, are explained in the notes.

export const CAUSES_CONSIDERED = 3;
/**
 * A cause scoring under this share of the first is not acted on: diagnosis keeps weak candidates
 * for people to read (an old config change that merely touched the host), but an action on one
 * (reverting the mesh's first apply deletes every route) costs more than it can be expected to help.
 */
export const MIN_SHARE_OF_TOP = 0.25;

export interface Plan {
  incident: string;
  actions: PlannedAction[];
  notes: string[];
}

export function planRecovery(incident: Pick<Incident, 'id' | 'causes'>, ctx: PlanContext): Plan {
  const actions: PlannedAction[] = [];
  const notes: string[] = [];
  const seen = new Set<string>();
  const topScore = incident.causes[0]?.score ?? 0;
  const causes = incident.causes.slice(0, CAUSES_CONSIDERED).filter((c, i) => {
    if (c.score >= MIN_SHARE_OF_TOP * topScore) return true;
    notes.push(`cause ${i + 1} (${describeTarget(c.target)}): not acted on, its score ${c.score.toFixed(2)} is under ${MIN_SHARE_OF_TOP * 100}% of the first cause's ${topScore.toFixed(2)}`);
    return false;
  });
  if (causes.length === 0) notes.push(`incident ${incident.id} has no ranked cause yet: nothing to act on`);
  causes.forEach((cause, i) => {
    const rank = i + 1;
    const defs = ACTIONS.filter((d) => treats(d, cause));
    if (defs.length === 0) {
      notes.push(`cause ${rank} (${describeTarget(cause.target)}, ${cause.mechanism ?? 'no mechanism'}): no action treats it`);
      return;
    }
    for (const def of defs) {
      const p = def.plan(cause, rank, ctx);
      if (isSkip(p)) {
        notes.push(`cause ${rank}: ${def.kind} not proposed: ${p.skip}`);
        continue;
      }
      // The same action reached from two causes (an instance and its version, two resources of one change) is tried once.
      // Keyed by what it does, not by the cause: two causes naming one change get one revert.
      const key = `${p.kind}|${p.config.length || p.platform.length ? '' : targetKey(p.cause)}|${p.config.map((c) => `${c.op}:${c.kind}/${c.namespace}/${c.name}`).sort().join(',')}|${p.platform.map((o) => JSON.stringify(o)).join(',')}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const why = refusal(p, ctx);
      actions.push(why ? { ...p, rejected: why } : p);
    }
  });
  return { incident: incident.id, actions, notes };
}
