import { describeTarget, type Detection, type RankedCause } from '../diagnosis/model.js';
import type { Injection } from '../platform/local/chaos/types.js';
import type { RecoveryAction, SloFigures } from '../recovery/model.js';
import type { DemoResult } from './result.js';
import type { LoadStats } from './load.js';

// The demo's timeline: each step of the loop (injected, detected, root cause and its evidence,
// action applied, verified or rolled back, SLO restored) as a line a person reads, stamped with
// the time since the demo started. Pure functions: the runner makes events, this file words them.

export type StepKind = 'mesh' | 'dashboard' | 'load' | 'baseline' | 'injected' | 'detected' | 'cause' | 'action' | 'restored' | 'note' | 'result';

export interface TimelineEvent {
  at: number;
  kind: StepKind;
  text: string;
  /** Indented lines under it (evidence, figures). */
  detail?: string[];
}

const MARK: Record<StepKind, string> = {
  mesh: '\u2022', dashboard: '\u2022', load: '\u2022', baseline: '\u2022', note: '\u2022',
  injected: '\u26a1', detected: '!', cause: '?', action: '\u2192', restored: '\u2714', result: '=',
};

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

const pct = (ratio: number) => `${(ratio * 100).toFixed(ratio > 0 && ratio < 0.01 ? 2 : 1)}%`;

/** `[ +23.5s] !  detected ...` then its detail lines, indented under the text. */
export function formatEvent(e: TimelineEvent, t0: number): string[] {
  const stamp = `[${`+${((e.at - t0) / 1000).toFixed(1)}s`.padStart(7)}]`;
  const head = `${stamp} ${MARK[e.kind]} ${e.kind.padEnd(9)} ${e.text}`;
  return [head, ...(e.detail ?? []).map((d) => `${' '.repeat(stamp.length + 13)}${d}`)];
}

export function injectedEvent(inj: Injection, at = inj.startedAt): TimelineEvent {
  const params = Object.entries(inj.params).map(([k, v]) => `${k}=${String(v)}`).join(', ');
  return { at, kind: 'injected', text: `${inj.type} (${inj.id}${params ? `, ${params}` : ''}): expected root cause ${inj.expectedCause.label}` };
}

export function detectionText(d: Detection): string {
  if (d.text) return d.text;
  const v = d.check.includes('ratio') ? `${pct(d.value)} > ${pct(d.threshold)}` : `${round(d.value)} > ${round(d.threshold)}`;
  return `${d.check} of ${d.subject}: ${v} over ${d.window}`;
}

export function detectedEvent(at: number, detectedMs: number, detections: readonly Detection[]): TimelineEvent {
  const first = detections[0];
  return {
    at,
    kind: 'detected',
    text: `${seconds(detectedMs)} after the injection${first ? `: ${detectionText(first)}` : ''}`,
    detail: detections.slice(1, 3).map(detectionText),
  };
}

/** The evidence with its figures (flags, ratios, latencies), three items at most. */
export function evidenceLines(c: RankedCause): string[] {
  return c.evidence.slice(0, 3).map((e) => {
    const figures = Object.entries(e.figures).slice(0, 5).map(([k, v]) => `${k}=${typeof v === 'number' ? round(v) : v}`).join(', ');
    return `${e.signal}: ${e.text}${figures ? ` [${figures}]` : ''}`;
  });
}

export function causeEvent(at: number, c: RankedCause, matches: boolean | undefined): TimelineEvent {
  const verdict = matches === undefined ? '' : matches ? ' (the injected culprit)' : ' (not the injected culprit)';
  return { at, kind: 'cause', text: `${describeTarget(c.target)}${c.mechanism ? ` [${c.mechanism}]` : ''}, score ${c.score.toFixed(2)}${verdict}`, detail: evidenceLines(c) };
}

export function sloText(f: SloFigures | undefined): string {
  if (!f) return '?';
  return `errors ${pct(f.errorRatio)}, p99 ${f.p99Ms === null ? '-' : `${Math.round(f.p99Ms)} ms`}, ${round(f.rps)} rps`;
}

/** One line per state an action reaches: what was applied, then whether it held. */
export function actionEvent(at: number, a: RecoveryAction): TimelineEvent {
  const head = `#${a.position} ${a.kind}: ${a.summary}`;
  switch (a.state) {
    case 'proposed':
      return { at, kind: 'action', text: `${head} (proposed)`, detail: [`expected: ${a.expectedEffect}`, `blast radius: ${a.blastRadius.text}`] };
    case 'applying':
      return { at, kind: 'action', text: `${head} (applying)`, detail: [`blast radius: ${a.blastRadius.text}`] };
    case 'verifying':
      return { at, kind: 'action', text: `${head} applied; verifying${a.verifyUntil ? ` for ${seconds(a.verifyUntil - (a.appliedAt ?? at))}` : ''}`, detail: a.before ? [`before: ${sloText(a.before)}`] : [] };
    case 'verified':
      return { at, kind: 'action', text: `${head} verified: the SLO held, action kept`, detail: [`before: ${sloText(a.before)}`, `after:  ${sloText(a.after)}`] };
    case 'rolled-back':
      return { at, kind: 'action', text: `${head} did not help: rolled back${a.reason ? ` (${a.reason})` : ''}`, detail: a.after ? [`after: ${sloText(a.after)}`] : [] };
    default:
      return { at, kind: 'action', text: `${head} ${a.state}${a.reason ? `: ${a.reason}` : ''}` };
  }
}

export function restoredEvent(at: number, mttrMs: number, broken: boolean): TimelineEvent {
  return broken
    ? { at, kind: 'restored', text: `SLO restored for users ${seconds(mttrMs)} after the injection (99% of requests served whole over every 5 s window since)` }
    : { at, kind: 'restored', text: 'users never saw the SLO break (every 5 s window kept 99% of requests served whole)' };
}

export function progressText(elapsedMs: number, s: LoadStats, recent: { failed: number; total: number }): string {
  const reasons = Object.entries(s.reasons).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([r, n]) => `${r} x${n}`).join(', ');
  return `load ${seconds(elapsedMs)}: ${s.sent} requests, ${s.failed} failed${reasons ? ` (${reasons})` : ''}; last 5 s: ${recent.failed}/${recent.total} failed`;
}

/** The closing lines: the figures of the JSON result, for people. */
export function summaryLines(r: DemoResult): string[] {
  const lines = [
    `scenario ${r.scenario}: ${r.verified ? 'recovered and verified' : 'NOT verified'}`,
    `  injected:    ${r.injected.label}`,
    `  root cause:  ${r.rootCause ? `${r.rootCause.label}${r.rootCause.matchesInjected ? ' (matches)' : ' (does NOT match)'}` : 'none named'}`,
    `  detected:    ${r.detectedMs === null ? 'no incident' : `${seconds(r.detectedMs)} after the injection`}`,
    `  actions:     ${r.actions.length ? r.actions.map((a) => `${a.kind} (${a.state})`).join(', ') : 'none'}`,
    `  SLO back:    ${r.mttrMs === null ? 'not within the run' : `${seconds(r.mttrMs)} after the injection`}`,
    `  requests:    ${r.failedRequests} of ${r.totalRequests} failed since the injection`,
  ];
  return lines;
}

function round(n: number): string {
  return Number.isInteger(n) ? String(n) : Math.abs(n) < 1 ? n.toFixed(3) : n.toFixed(1);
}
