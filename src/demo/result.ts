import { describeTarget, type CauseMechanism, type CauseTarget, type RankedCause } from '../diagnosis/model.js';
import type { RootCause } from '../platform/local/chaos/types.js';
import type { ActionKind, ActionState, RecoveryAction } from '../recovery/model.js';

// What one demo scenario ends with: the object `meshmedic demo --headless -o json` prints (and
// the benchmark records per run), and the exit code it earns.

export interface ActionSummary {
  kind: ActionKind;
  summary: string;
  state: ActionState;
}

export interface RootCauseSummary {
  /** describeTarget of the cause: `version v4 of reviews.bookinfo (workload reviews-v4)`. */
  label: string;
  target: CauseTarget;
  mechanism?: CauseMechanism;
  score: number;
  summary: string;
  /** Whether it names the injected culprit (src/diagnosis/ground-truth.ts). */
  matchesInjected: boolean;
}

export interface DemoResult {
  scenario: string;
  /** The injection record's expected cause (chaos's ground truth). */
  injected: RootCause;
  /** Injection -> the incident opened; null: no incident. */
  detectedMs: number | null;
  /** The incident's top cause when the run ended; null: no incident or no cause. */
  rootCause: RootCauseSummary | null;
  actions: ActionSummary[];
  /** An action was kept (verified by recovery) and users' requests met the SLO after it. */
  verified: boolean;
  /** Injection -> users' requests meet the SLO again (1 s resolution); null: not within the run. */
  mttrMs: number | null;
  /** Users' requests sent from the injection to the end of the run, and those that failed. */
  failedRequests: number;
  totalRequests: number;
}

export function summarizeAction(a: Pick<RecoveryAction, 'kind' | 'summary' | 'state'>): ActionSummary {
  return { kind: a.kind, summary: a.summary, state: a.state };
}

export function summarizeCause(c: RankedCause, matchesInjected: boolean): RootCauseSummary {
  return { label: describeTarget(c.target), target: c.target, ...(c.mechanism && { mechanism: c.mechanism }), score: Math.round(c.score * 1000) / 1000, summary: c.summary, matchesInjected };
}

/** Whether the loop closed: a kept action, users served again, and the right culprit named. */
export function succeeded(r: DemoResult): boolean {
  return r.verified && r.rootCause?.matchesInjected === true;
}

/** 0 only when verified and the root cause matches the injected one. */
export function demoExitCode(r: DemoResult): number {
  return succeeded(r) ? 0 : 1;
}

/** Orders the fields as documented (docs/demo.md), whatever order they were filled in. */
export function resultJson(r: DemoResult): string {
  const { scenario, injected, detectedMs, rootCause, actions, verified, mttrMs, failedRequests, totalRequests } = r;
  return JSON.stringify({ scenario, injected, detectedMs, rootCause, actions, verified, mttrMs, failedRequests, totalRequests });
}
