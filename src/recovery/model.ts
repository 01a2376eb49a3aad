// The vocabulary of recovery, shared by the planner, the executor, the audit log, the API, the
// CLI, the dashboard and the demo: an action (what is done about which cause, as Istio config
// or a platform operation), its life (proposed -> applied -> verified | rolled back) and the SLO
// figures measured before and after it. Plain JSON throughout: actions cross the API and are
// stored in SQLite as they are.

import type { CauseTarget } from '../diagnosis/model.js';

/** One file per kind under `actions/`; keep the values stable (stored, sent to the dashboard). */
export type ActionKind =
  | 'quarantine-instance' // eject an instance from every load-balancing set (control plane)
  | 'restart-instance' // platform: restart the instance's application
  | 'shift-traffic' // VirtualService weights away from a bad version (a rollback)
  | 'revert-config' // put back what a recent config change replaced
  | 'timeout-retry' // add or raise timeouts and retry budgets around a slow dependency
  | 'limit-concurrency' // DestinationRule connectionPool caps to protect a struggling service
  | 'failover-external' // route an external host to its failover
  | 'scale-up'; // platform: start more instances of an overloaded service

/**
 * proposed: planned, waiting (manual mode) or about to run (auto mode); applying: written to the
 * audit log, being applied; verifying: applied, the SLO is watched; verified: the SLO held, the
 * action is kept; rolled-back: it did not help (or was rolled back by hand) and was undone;
 * failed: applying it failed (nothing left applied); rejected: a safety limit refused it;
 * superseded: its incident closed or another action fixed it before it ran; expired: a kept
 * action undone when its policy said so.
 */
export type ActionState = 'proposed' | 'applying' | 'verifying' | 'verified' | 'rolled-back' | 'failed' | 'rejected' | 'superseded' | 'expired';

export const FINAL_STATES: readonly ActionState[] = ['verified', 'rolled-back', 'failed', 'rejected', 'superseded', 'expired'];

/** A change to one Istio resource; `previous` is what it replaced (null: it did not exist), so rollback is exact. */
export interface ConfigChange {
  op: 'apply' | 'delete';
  kind: string;
  namespace: string;
  name: string;
  /** The resource as applied (Istio YAML as JSON); absent for a delete. */
  raw?: Record<string, unknown>;
  previous: Record<string, unknown> | null;
}

/** A platform operation (local mesh daemon today, Kubernetes later). */
export type PlatformOperation =
  | { op: 'quarantine'; namespace: string; instance: string }
  | { op: 'restart'; namespace: string; instance: string }
  | { op: 'scale'; namespace: string; workload: string; add: number };

/** The SLO figures of the cause's service, before an action and after its verification window. */
export interface SloFigures {
  at: number;
  /** 5xx (and gRPC non-OK) share of requests, 0..1. */
  errorRatio: number;
  p99Ms: number | null;
  rps: number;
  /** Whether every check of the SLO held. */
  healthy: boolean;
}

export interface PlannedAction {
  kind: ActionKind;
  /** The cause it treats (rank 1 = top cause of the incident). */
  cause: CauseTarget;
  causeRank: number;
  /** One line: what is done to what. */
  summary: string;
  /** What should happen if the cause is right: `errors on reviews fall below 5% within 10 s`. */
  expectedEffect: string;
  /** Who is touched: the share of the service's instances or traffic the action changes. */
  blastRadius: { text: string; instances?: number; trafficShare?: number };
  config: ConfigChange[];
  platform: PlatformOperation[];
  /** The YAML it applies (config actions), printed by `recover --dry-run`. */
  yaml?: string;
  /** Set by the planner when a safety limit refuses the action: why. */
  rejected?: string;
}

export interface RecoveryAction extends PlannedAction {
  id: string;
  incidentId: string;
  /** Order in the incident's plan (1 = tried first). */
  position: number;
  state: ActionState;
  mode: 'auto' | 'manual';
  createdAt: number;
  appliedAt?: number;
  /** End of the verification window. */
  verifyUntil?: number;
  endedAt?: number;
  /** Why it ended as it did (the SLO figure, the safety limit, the error). */
  reason?: string;
  before?: SloFigures;
  after?: SloFigures;
  /** Instances a scale-up started (its rollback stops exactly these). */
  started?: string[];
  /** When the quarantine this action holds was lifted (by policy, at verification, or by rollback). */
  liftedAt?: number;
  /** Whether the quarantined instance was ready when the action was applied (errors/latency) or not (crash/hang). */
  readyAtApply?: boolean;
  /** Set when a restarted control plane took the action over from the audit log. */
  resumedAt?: number;
}
