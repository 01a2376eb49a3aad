import { describeTarget } from '../diagnosis/model.js';
import type { PlannedAction, RecoveryAction, SloFigures } from './model.js';

// How plans and actions read in a terminal (`recover`, `incidents show`): each action with what
// it does, why (the cause), what it should achieve, whom it touches, and, once it ran, its state
// and the SLO figures before and after it.

const time = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');

export function slo(f: SloFigures | undefined): string {
  if (!f) return '-';
  return `errors ${(f.errorRatio * 100).toFixed(1)}%, p99 ${f.p99Ms === null ? '-' : `${Math.round(f.p99Ms)} ms`}, ${f.rps.toFixed(1)} rps (${f.healthy ? 'SLO holds' : 'SLO fails'})`;
}

export function writePlan(actions: ReadonlyArray<PlannedAction | RecoveryAction>, out: NodeJS.WritableStream, opts: { yaml?: boolean } = {}): void {
  if (actions.length === 0) {
    out.write('  no action: nothing in the registry treats these causes (see the notes)\n');
    return;
  }
  actions.forEach((a, i) => {
    const rec = 'id' in a ? (a as RecoveryAction) : undefined;
    const head = rec ? `${rec.id} ${rec.state.toUpperCase()}` : a.rejected ? 'REJECTED' : 'proposed';
    out.write(`  ${rec?.position ?? i + 1}. ${a.kind} [${head}] for cause ${a.causeRank}: ${describeTarget(a.cause)}\n`);
    out.write(`       ${a.summary}\n`);
    out.write(`       expected:     ${a.expectedEffect}\n`);
    out.write(`       blast radius: ${a.blastRadius.text}\n`);
    if (a.rejected && !rec) out.write(`       rejected:     ${a.rejected}\n`);
    if (rec) writeOutcome(rec, out);
    if (opts.yaml && a.yaml) out.write(`       YAML:\n${a.yaml.replace(/^/gm, '         ').trimEnd()}\n`);
    for (const p of a.platform) out.write(`       platform:     ${p.op} ${'instance' in p ? `${p.instance}.${p.namespace}` : `${p.workload}.${p.namespace} +${p.add}`}\n`);
  });
}

export function writeOutcome(a: RecoveryAction, out: NodeJS.WritableStream): void {
  if (a.appliedAt !== undefined) out.write(`       applied:      ${time(a.appliedAt)} (${a.mode})\n`);
  if (a.before) out.write(`       before:       ${slo(a.before)}\n`);
  if (a.after) out.write(`       after:        ${slo(a.after)}\n`);
  if (a.reason) out.write(`       ${(a.state + ':').padEnd(13)} ${a.reason}\n`);
}

/** `incidents show`: every action of the incident, with before/after figures. */
export function writeActions(actions: readonly RecoveryAction[], out: NodeJS.WritableStream): void {
  out.write(`\nRecovery actions (${actions.length}):\n`);
  if (actions.length === 0) {
    out.write('  none yet (plan one with: meshmedic recover --dry-run)\n');
    return;
  }
  writePlan(actions, out);
}
