import type { Command } from 'commander';
import type { PlannedAction, RecoveryAction } from '../recovery/model.js';
import { FINAL_STATES } from '../recovery/model.js';
import { slo, writePlan } from '../recovery/format.js';
import type { ControlPlaneRecord } from '../platform/local/state-dir.js';
import { EXIT_UNKNOWN_ERROR, ExitError, usageError } from './exit-codes.js';
import { callApi, requireControlPlane, stateDirOption } from './mesh-client.js';
import { outputFormatOption, printStructured } from './output.js';
import { platformOptions } from './platform-options.js';
import { recoverKube } from './recover-kube.js';

// `meshmedic recover`: the plan for the open incident (--dry-run), or carry it out: each action
// applied, verified against the SLO, rolled back when it does not help, the next one tried.
// --approve runs one proposed action (manual mode), --rollback undoes one. Progress goes to
// stderr as the actions move; the result (log, json or yaml) to stdout.
//
// Exit codes: 0 done (an action verified; a dry run printed; --no-wait: the plan started),
// 1 error, 2 no action was verified (all rolled back, failed or rejected), 3 no open incident to
// recover from, 4 --timeout ran out while waiting, 64 usage.

export const EXIT_NOT_RECOVERED = 2;
export const EXIT_NO_INCIDENT = 3;
export const EXIT_TIMEOUT = 4;

interface PlanAnswer {
  incident: string;
  actions: Array<PlannedAction | RecoveryAction>;
  notes: string[];
}

export function registerRecover(program: Command): void {
  program
    .command('recover')
    .description('Plan, apply, verify and roll back recovery actions for the open incident')
    .option('-r, --service <name>', 'the service to recover (default: the newest open incident)')
    .option('-n, --namespace <ns>', 'namespace of the incident')
    .option('--incident <id>', 'a given incident (i1, i2, ...)')
    .option('--dry-run', 'print the plan and the YAML it would apply; change nothing')
    .option('--approve <id>', 'run one proposed action (manual mode)')
    .option('--rollback <id>', 'undo an applied action')
    .option('--no-wait', 'return once the first action is applied, without waiting for its verification')
    .option('--timeout <seconds>', 'how long to wait for the outcome', '180')
    .option('-o, --output <format>', 'log, json or yaml', 'log')
    .option('--state-dir <dir>', 'state directory')
    .option('--causes <file>', 'kube: plan for these ranked causes (analyze -o json output, an incident, or a list) instead of diagnosing')
    .option('--settings <file>', 'kube: recovery settings (recovery.yaml) for the safety limits')
    .action(async (opts, cmd: Command) => {
      const format = outputFormatOption(opts.output);
      if (platformOptions(cmd).platform === 'kube') return recoverKube(opts, cmd, format);
      const modes = [opts.dryRun, opts.approve, opts.rollback].filter(Boolean).length;
      if (modes > 1) throw usageError('--dry-run, --approve and --rollback go alone');
      const timeoutMs = Number(opts.timeout) * 1000;
      if (!(timeoutMs > 0)) throw usageError('--timeout must be a number of seconds above 0');
      const cp = requireControlPlane(stateDirOption(opts));
      const say = (s: string) => {
        if (format === 'log') process.stderr.write(`${s}\n`);
      };
      if (opts.rollback) {
        const a = await api<RecoveryAction>(cp, 'POST', `/api/v1/recovery/actions/${encodeURIComponent(opts.rollback)}/rollback`);
        return finish([a], format, a.state === 'rolled-back' ? 0 : EXIT_UNKNOWN_ERROR);
      }
      if (opts.approve) {
        const a = await api<RecoveryAction>(cp, 'POST', `/api/v1/recovery/actions/${encodeURIComponent(opts.approve)}/approve`);
        say(`${a.id} approved: ${a.summary}`);
        const final = opts.wait ? await follow(cp, a.incidentId, [a.id], timeoutMs, say) : [await api<RecoveryAction>(cp, 'GET', `/api/v1/recovery/actions/${a.id}`)];
        return finish(final, format, exitOf(final, opts.wait));
      }
      const q = { ...(opts.namespace && { namespace: opts.namespace }), ...(opts.service && { service: opts.service }), ...(opts.incident && { incident: opts.incident }) };
      if (opts.dryRun) {
        const plan = await api<PlanAnswer>(cp, 'GET', `/api/v1/recovery/plan?${new URLSearchParams(q)}`);
        if (format !== 'log') return printStructured(plan, format);
        process.stdout.write(`Plan for incident ${plan.incident} (dry run: nothing applied):\n`);
        writePlan(plan.actions, process.stdout, { yaml: true });
        writeNotes(plan.notes);
        return;
      }
      const started = await api<PlanAnswer>(cp, 'POST', '/api/v1/recovery/run', q);
      const ids = (started.actions as RecoveryAction[]).map((a) => a.id);
      say(`Incident ${started.incident}: ${ids.length} action(s) planned; trying them in order`);
      for (const n of started.notes) say(`  note: ${n}`);
      const final = opts.wait ? await follow(cp, started.incident, ids, timeoutMs, say) : await actionsOf(cp, started.incident, ids);
      finish(final, format, exitOf(final, opts.wait), started.notes);
    });
}

async function api<T>(cp: ControlPlaneRecord, method: string, path: string, body?: object): Promise<T> {
  try {
    return await callApi<T>(cp, method, path, body);
  } catch (e) {
    if (e instanceof ExitError && e.lines.some((l) => l.includes('[E_RECOVERY_NO_INCIDENT]'))) throw new ExitError(EXIT_NO_INCIDENT, e.lines);
    throw e;
  }
}

async function actionsOf(cp: ControlPlaneRecord, incident: string, ids: readonly string[]): Promise<RecoveryAction[]> {
  const all = await api<RecoveryAction[]>(cp, 'GET', `/api/v1/recovery/actions?incident=${encodeURIComponent(incident)}`);
  return all.filter((a) => ids.includes(a.id));
}

/** Polls the actions until none is in flight (or the timeout), telling each change of state. */
async function follow(cp: ControlPlaneRecord, incident: string, ids: readonly string[], timeoutMs: number, say: (s: string) => void): Promise<RecoveryAction[]> {
  const seen = new Map<string, string>();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = await actionsOf(cp, incident, ids);
    for (const a of now) {
      if (seen.get(a.id) === a.state) continue;
      seen.set(a.id, a.state);
      if (a.state === 'verifying') say(`${a.id} applied, verifying until ${new Date(a.verifyUntil ?? 0).toISOString()}: ${a.summary}`);
      else if (a.state === 'verified') say(`${a.id} verified: ${slo(a.after)} (before: ${slo(a.before)})`);
      else if (a.state === 'rolled-back' || a.state === 'failed' || a.state === 'rejected') say(`${a.id} ${a.state}: ${a.reason ?? ''}`);
    }
    const inFlight = now.some((a) => a.state === 'applying' || a.state === 'verifying');
    const pending = now.some((a) => a.state === 'proposed') && !now.some((a) => a.state === 'verified');
    if (!inFlight && !(pending && ids.length > 1)) return now;
    if (Date.now() > deadline) throw new ExitError(EXIT_TIMEOUT, [`Error: no outcome within ${timeoutMs / 1000} s; follow it with: meshmedic incidents show ${incident}`]);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function exitOf(actions: readonly RecoveryAction[], waited: boolean): number {
  if (!waited) return 0;
  return actions.some((a) => a.state === 'verified') ? 0 : EXIT_NOT_RECOVERED;
}

function finish(actions: readonly RecoveryAction[], format: 'log' | 'json' | 'yaml', code: number, notes: readonly string[] = []): void {
  if (format !== 'log') printStructured(actions, format);
  else {
    writePlan(actions, process.stdout);
    if (notes.length) writeNotes(notes);
    const done = actions.find((a) => a.state === 'verified');
    process.stdout.write(done ? `\u2714 recovered by ${done.id} (${done.kind})\n` : actions.every((a) => FINAL_STATES.includes(a.state)) ? '\u2718 no action was verified\n' : '');
  }
  if (code) process.exitCode = code;
}

function writeNotes(notes: readonly string[]): void {
  if (notes.length === 0) return;
  process.stdout.write('Notes:\n');
  for (const n of notes) process.stdout.write(`  - ${n}\n`);
}
