import type { Command } from 'commander';
import { join } from 'node:path';
import { IncidentStore, IncidentStoreError, type IncidentSummary } from '../diagnosis/incidents/incident-store.js';
import type { Incident } from '../diagnosis/model.js';
import type { RecoveryAction } from '../recovery/model.js';
import { writeActions } from '../recovery/format.js';
import { AuditLog } from '../recovery/audit-log.js';
import type { StateDir } from '../platform/local/state-dir.js';
import { writeIncident, printIncidents } from './diagnosis-format.js';
import { EXIT_UNKNOWN_ERROR, ExitError, usageError } from './exit-codes.js';
import { callApi, stateDirOption } from './mesh-client.js';
import { outputFormatOption, printStructured } from './output.js';

// `meshmedic incidents [list]` and `meshmedic incidents show ID`: what detection opened, with the
// ranked causes and their evidence. Asked of the running control plane; with the mesh down, read
// from the state directory's database (incidents outlive the mesh).

const DATABASE = 'meshmedic.db';

export function registerIncidents(program: Command): void {
  const cmd = program.command('incidents').description('Incidents opened by detection, with their ranked causes and evidence (list | show ID)');
  const common = (c: Command) => c.option('-o, --output <format>', 'log, json or yaml', 'log').option('--state-dir <dir>', 'state directory');
  common(
    cmd
      .command('list', { isDefault: true })
      .description('Incidents, newest first')
      .option('-n, --namespace <ns>', 'only this namespace')
      .option('--status <status>', 'open or closed')
      .option('--limit <n>', 'at most this many', '50'),
  ).action(async (opts) => {
    const format = outputFormatOption(opts.output);
    if (opts.status !== undefined && opts.status !== 'open' && opts.status !== 'closed') throw usageError(`--status must be open or closed, got ${opts.status}`);
    const limit = Number(opts.limit);
    if (!(Number.isInteger(limit) && limit >= 1 && limit <= 10_000)) throw usageError('--limit must be a whole number within 1..10000');
    const rows = await listIncidents(stateDirOption(opts), { namespace: opts.namespace, status: opts.status, limit });
    if (format !== 'log') return printStructured(rows, format);
    if (rows.length === 0) {
      process.stderr.write('No incidents.\n');
      return;
    }
    printIncidents(rows);
  });
  common(cmd.command('show').description('One incident: ranked causes with evidence, detections, timeline').argument('<id>', 'incident id (i1, i2, ...)')).action(async (id: string, opts) => {
    const format = outputFormatOption(opts.output);
    const inc = await getIncident(stateDirOption(opts), id);
    if (format !== 'log') return printStructured(inc, format);
    writeIncident(inc);
    writeActions(inc.actions ?? [], process.stdout);
  });
}

async function listIncidents(state: StateDir, q: { namespace?: string; status?: string; limit: number }): Promise<IncidentSummary[]> {
  const cp = state.liveControlPlane();
  if (cp) {
    const p = new URLSearchParams({ limit: String(q.limit) });
    if (q.namespace) p.set('namespace', q.namespace);
    if (q.status) p.set('status', q.status);
    return (await callApi<{ incidents: IncidentSummary[] }>(cp, 'GET', `/api/v1/incidents?${p}`)).incidents;
  }
  return withStore(state, (s) => s.list({ namespace: q.namespace, status: q.status as 'open' | 'closed' | undefined, limit: q.limit })) ?? [];
}

async function getIncident(state: StateDir, id: string): Promise<Incident & { actions?: RecoveryAction[] }> {
  const cp = state.liveControlPlane();
  if (cp) return callApi<Incident & { actions?: RecoveryAction[] }>(cp, 'GET', `/api/v1/incidents/${encodeURIComponent(id)}`);
  const inc = withStore(state, (s) => s.get(id));
  if (!inc) throw new ExitError(EXIT_UNKNOWN_ERROR, [`Error: no incident ${id} [E_INCIDENT_NOT_FOUND]`]);
  return { ...inc, actions: recoveryActions(state, id) };
}

/** The incident's recovery actions from the database (none when recovery never ran there). */
function recoveryActions(state: StateDir, id: string): RecoveryAction[] {
  let log: AuditLog;
  try {
    log = new AuditLog(join(state.root, DATABASE), { readonly: true });
  } catch {
    return [];
  }
  try {
    return log.byIncident(id);
  } catch (e) {
    if (/no such table/.test((e as Error).message)) return [];
    throw e;
  } finally {
    log.close();
  }
}

/** Reads the database of the state directory; undefined when there is none yet, or it has no incidents tables (no mesh ran with diagnosis there). */
function withStore<T>(state: StateDir, f: (s: IncidentStore) => T): T | undefined {
  let store: IncidentStore;
  try {
    store = new IncidentStore(join(state.root, DATABASE), { readonly: true });
  } catch (e) {
    if (e instanceof IncidentStoreError) return undefined;
    throw e;
  }
  try {
    return f(store);
  } catch (e) {
    if (/no such table/.test((e as Error).message)) return undefined;
    throw e;
  } finally {
    store.close();
  }
}
