import type { CauseKind, RankedCause } from '../model.js';
import type { SignalSnapshot } from '../signals/snapshot.js';
import { serviceAnomaly, type ServiceAnomaly } from './anomaly.js';
import { processFailures, type ProcessFailure } from './process-failure.js';
import { SignalIndex } from './signal-index.js';

// What every candidate generator reads: the snapshot, its indexes, the instances that failed as
// processes and every service's own anomaly at each level (instances, workloads, service),
// computed once per localization.

export interface LocalizationContext {
  snapshot: SignalSnapshot;
  index: SignalIndex;
  /** By `namespace/instance`. */
  processFailures: Map<string, ProcessFailure>;
  /** By service host (FQDN). */
  services: Map<string, ServiceAnomaly>;
}

/** One generator per cause kind: it proposes causes of its kind, each with a score and its evidence. */
export interface CandidateGenerator {
  kind: CauseKind;
  propose(ctx: LocalizationContext): RankedCause[];
}

/** Instances whose process failure is clear enough that their errors are not the application's. */
export const PROCESS_FAILURE_EXCLUDES = 0.5;

export function buildContext(snapshot: SignalSnapshot): LocalizationContext {
  const index = new SignalIndex(snapshot);
  const failures = processFailures(index);
  const excluded = new Set([...failures].filter(([, f]) => f.severity >= PROCESS_FAILURE_EXCLUDES).map(([k]) => k));
  const services = new Map<string, ServiceAnomaly>();
  for (const host of index.services.keys()) services.set(host, serviceAnomaly(index, host, excluded));
  return { snapshot, index, processFailures: failures, services };
}
