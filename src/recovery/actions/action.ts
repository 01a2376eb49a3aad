import type { WorkloadInstance } from '../../api/snapshot.js';
import type { Resource } from '../../api/resource.js';
import type { Change } from '../../config/store.js';
import type { CauseKind, CauseMechanism, Detection, RankedCause } from '../../diagnosis/model.js';
import type { ActionKind, PlannedAction } from '../model.js';
import type { RecoverySettings } from '../settings.js';

// An action: which causes it treats, and how it turns one of them, with the mesh's state, into
// a PlannedAction (Istio config and/or platform operations). One file per kind, registered in
// registry.ts; the registry's order is the order in which actions for one cause are tried.

/** What an action may read of the mesh while it plans (read-only). */
export interface PlanContext {
  /** The config in force, by kind (`VirtualService`, ...). */
  resources(kind: string, namespace?: string): readonly Resource[];
  /** The config store's history, oldest first. */
  changes(): readonly Change[];
  instances(): readonly WorkloadInstance[];
  quarantined(namespace: string, instance: string): boolean;
  /** Detections of the incident (to tell unhealthy subsets and instances). */
  detections: readonly Detection[];
  /** The incident's other causes (a version blamed there is not a healthy target). */
  causes: readonly RankedCause[];
  settings: RecoverySettings;
}

/** Why an action that treats the cause is not proposed (the plan's notes say it). */
export interface Skip {
  skip: string;
}

export interface ActionDefinition {
  kind: ActionKind;
  /** The causes it treats; `mechanisms` absent: any mechanism of that kind. */
  treats: ReadonlyArray<{ kind: CauseKind; mechanisms?: readonly CauseMechanism[] }>;
  plan(cause: RankedCause, causeRank: number, ctx: PlanContext): PlannedAction | Skip;
}

export function treats(def: ActionDefinition, cause: RankedCause): boolean {
  return def.treats.some((t) => t.kind === cause.target.kind && (!t.mechanisms || (cause.mechanism !== undefined && t.mechanisms.includes(cause.mechanism))));
}

export const isSkip = (x: PlannedAction | Skip): x is Skip => 'skip' in x;
