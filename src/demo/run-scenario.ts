import { causeMatches, type Expected, type TopologyView } from '../diagnosis/ground-truth.js';
import { targetKey, type Incident, type RankedCause } from '../diagnosis/model.js';
import type { Injection } from '../platform/local/chaos/types.js';
import type { RecoveryAction } from '../recovery/model.js';
import type { DemoMesh } from './demo-mesh.js';
import type { LoadGenerator } from './load.js';
import { summarizeAction, summarizeCause, type DemoResult } from './result.js';
import { injectRequest, type Scenario } from './scenarios.js';
import { countRequests, restoration, USER_SLO } from './slo-window.js';
import { actionEvent, causeEvent, detectedEvent, injectedEvent, restoredEvent, type TimelineEvent } from './timeline.js';

// One scenario on a running demo mesh under load: inject the fault, then follow the loop from
// the control plane's API (the incident, its ranked causes, recovery's actions) and from what
// users saw (the load generator's record), emitting a timeline event at each step, until the
// loop has closed (an action kept and users served again, for `holdMs`) or the deadline. Every
// wait is a poll with a deadline.

export interface RunScenarioOptions {
  scenario: Scenario;
  mesh: DemoMesh;
  load: LoadGenerator;
  topology: TopologyView;
  onEvent: (e: TimelineEvent) => void;
  /** Give up this long after the injection. */
  deadlineMs: number;
  /** Users must be served this long after the SLO is back before it counts as restored. */
  holdMs: number;
  /**
   * Observe exactly this long after the injection whatever happens (the benchmark: the same
   * horizon with and without recovery); absent: stop as soon as the loop has closed.
   */
  horizonMs?: number;
  /** How long the fault stays in force at most (the daemon clears it after). */
  faultDurationMs: number;
  pollMs?: number;
  /** Aborted: stop following the loop at once (the demo was interrupted). */
  signal?: AbortSignal;
}

export interface ScenarioRun {
  result: DemoResult;
  injection: Injection;
  incident?: Incident;
  actionsFull: RecoveryAction[];
  /** Incident opened -> users' SLO back (ms), when both happened. */
  detectToRestoreMs: number | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Recovery's actions of an incident: on the incident itself, or from the recovery API. */
async function actionsOf(mesh: DemoMesh, incident: Incident & { actions?: RecoveryAction[] }): Promise<RecoveryAction[]> {
  if (Array.isArray(incident.actions)) return incident.actions;
  const got = await mesh.api<RecoveryAction[] | { actions: RecoveryAction[] }>(`/api/v1/recovery/actions?incident=${encodeURIComponent(incident.id)}`).catch(() => undefined);
  return Array.isArray(got) ? got : (got?.actions ?? []);
}

/** Longest wait for the namespace's open incidents to close before injecting. */
export const QUIET_DEADLINE_MS = 45_000;

/**
 * Injects only into a quiet namespace: an incident already open (noise during the baseline on a
 * busy machine) would swallow the fault's detection and get the actions. Waits (bounded) for it
 * to close, saying so on the timeline; injects anyway at the deadline.
 */
async function quiet(o: RunScenarioOptions, poll: number): Promise<void> {
  const deadline = Date.now() + QUIET_DEADLINE_MS;
  let told = false;
  for (;;) {
    const open = (await o.mesh.api<{ incidents: Array<{ id: string; subject: string }> }>(`/api/v1/incidents?namespace=${o.scenario.namespace}&status=open&limit=5`).catch(() => undefined))?.incidents ?? [];
    if (open.length === 0) {
      if (told) o.onEvent({ at: Date.now(), kind: 'note', text: 'closed; the namespace is quiet' });
      return;
    }
    if (!told) o.onEvent({ at: Date.now(), kind: 'note', text: `incident ${open[0].id} (${open[0].subject}) opened before the fault (noise on a busy machine?): waiting for it to close before injecting` });
    told = true;
    if (o.signal?.aborted) return;
    if (Date.now() > deadline) {
      o.onEvent({ at: Date.now(), kind: 'note', text: `still open after ${QUIET_DEADLINE_MS / 1000} s: injecting anyway (the fault joins it)` });
      return;
    }
    await sleep(poll * 4);
  }
}

export async function runScenario(o: RunScenarioOptions): Promise<ScenarioRun> {
  const { mesh, load, scenario } = o;
  const poll = o.pollMs ?? 250;
  await quiet(o, poll);
  if (o.signal?.aborted) throw new Error('interrupted');
  const injection = await mesh.inject(injectRequest(scenario, o.faultDurationMs));
  const expected = injection.expectedCause as unknown as Expected;
  o.onEvent(injectedEvent(injection));
  const from = load.indexOf(injection.startedAt);
  const deadline = injection.startedAt + (o.horizonMs ?? o.deadlineMs);

  let incident: (Incident & { actions?: RecoveryAction[] }) | undefined;
  let topKey = '';
  // Every top cause seen, with when: the result names the one recovery acted on (below).
  const tops: Array<{ at: number; cause: RankedCause }> = [];
  const seen = new Map<string, string>();
  let actions: RecoveryAction[] = [];
  let restoredIndex: number | null = null;
  let broken = false;
  let restoredReported = false;

  for (;;) {
    const now = Date.now();
    if (!incident) {
      const list = await mesh.api<{ incidents: Array<{ id: string; openedAt: number; closedAt?: number; namespace: string }> }>(`/api/v1/incidents?namespace=${scenario.namespace}&limit=5`).catch(() => undefined);
      // The incident of this fault: opened after it (a little slack for clocks), or still open
      // when it began (one incident per namespace at a time: a fault joins the one in progress).
      const found = list?.incidents.find((i) => i.openedAt >= injection.startedAt - 1500 || (i.closedAt === undefined && i.openedAt < injection.startedAt));
      if (found) {
        incident = await mesh.api<Incident>(`/api/v1/incidents/${encodeURIComponent(found.id)}`).catch(() => undefined);
        if (incident) o.onEvent(detectedEvent(now, incident.openedAt - injection.startedAt, incident.detections));
      }
    } else {
      incident = (await mesh.api<Incident>(`/api/v1/incidents/${encodeURIComponent(incident.id)}`).catch(() => undefined)) ?? incident;
    }
    if (incident) {
      const top = incident.causes[0];
      if (top && targetKey(top.target) !== topKey) {
        topKey = targetKey(top.target);
        tops.push({ at: now, cause: top });
        o.onEvent(causeEvent(now, top, causeMatches(top, expected, o.topology)));
      }
      actions = await actionsOf(mesh, incident);
      for (const a of [...actions].sort((x, y) => x.position - y.position)) {
        if (seen.get(a.id) === a.state) continue;
        seen.set(a.id, a.state);
        o.onEvent(actionEvent(now, a));
      }
    }
    const r = restoration(load.buckets, from, load.indexOf(now), USER_SLO, Math.ceil(o.holdMs / 1000));
    broken = r.broken;
    restoredIndex = r.restoredIndex;
    if (restoredIndex !== null && !restoredReported) {
      restoredReported = true;
      o.onEvent(restoredEvent(now, Math.max(0, load.timeOf(restoredIndex) - injection.startedAt), broken));
    }
    // A failure after a reported restoration means it was not one: look again.
    if (restoredIndex === null && restoredReported) restoredReported = false;
    const kept = actions.some((a) => a.state === 'verified');
    if (o.horizonMs === undefined && kept && restoredIndex !== null) break;
    if (now >= deadline || o.signal?.aborted) break;
    await sleep(poll);
  }

  const end = load.indexOf(Date.now()) - 1;
  const { failed, total } = countRequests(load.buckets, from, end);
  const top = actedOn(tops, actions, incident?.causes ?? []) ?? incident?.causes[0];
  const mttrMs = restoredIndex === null ? null : Math.max(0, load.timeOf(restoredIndex) - injection.startedAt);
  const result: DemoResult = {
    scenario: scenario.name,
    injected: injection.expectedCause,
    detectedMs: incident ? incident.openedAt - injection.startedAt : null,
    rootCause: top ? summarizeCause(top, causeMatches(top, expected, o.topology)) : null,
    actions: [...actions].sort((x, y) => x.position - y.position).map(summarizeAction),
    verified: actions.some((a) => a.state === 'verified') && restoredIndex !== null,
    mttrMs,
    failedRequests: failed,
    totalRequests: total,
  };
  const restoredAt = restoredIndex === null ? null : load.timeOf(restoredIndex);
  return {
    result,
    injection,
    incident,
    actionsFull: actions,
    detectToRestoreMs: incident && restoredAt !== null ? Math.max(0, restoredAt - incident.openedAt) : null,
  };
}

/**
 * The root cause to report. First the cause of the action that was verified: recovery proved
 * it by fixing it (as ranked, from the top causes seen or the incident's latest ranking). Else
 * the incident's top cause when recovery first acted (the last one seen before the first action
 * was applied), since an action changes the signals (a quarantine empties a subset, a revert is
 * itself a config change) and the ranking after it describes the remedy as much as the fault;
 * without an applied action, the latest top cause.
 */
export function actedOn(tops: ReadonlyArray<{ at: number; cause: RankedCause }>, actions: readonly RecoveryAction[], ranked: readonly RankedCause[] = []): RankedCause | undefined {
  const verified = actions.find((a) => a.state === 'verified');
  if (verified) {
    const key = targetKey(verified.cause);
    const match = [...tops.map((t) => t.cause), ...ranked].find((c) => targetKey(c.target) === key);
    if (match) return match;
  }
  const applied = actions.map((a) => a.appliedAt).filter((t): t is number => t !== undefined);
  if (tops.length === 0) return undefined;
  if (applied.length === 0) return tops[tops.length - 1].cause;
  const first = Math.min(...applied);
  const before = tops.filter((t) => t.at <= first);
  return (before.length ? before[before.length - 1] : tops[0]).cause;
}
