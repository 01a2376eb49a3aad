import { stringify } from 'yaml';
import { parseText, type LoadResult } from '../config/loader.js';
import { levelAtLeast, type Level } from '../config/analysis/catalogue.js';
import { formatLog, toOutputObject } from '../config/analysis/message.js';
import type { DiagnosisReport } from '../diagnosis/diagnosis-service.js';
import { hostsOf } from '../diagnosis/signals/config-signals.js';
import type { ControlPlaneRecord } from '../platform/local/state-dir.js';
import { parseDurationMs } from '../telemetry/promql/duration.js';
import { analyzeLoaded } from './analyze.js';
import { writeRuntimeFindings } from './diagnosis-format.js';
import { EXIT_ANALYZER_FOUND_ISSUES, ExitError, usageError } from './exit-codes.js';
import { callApi } from './mesh-client.js';
import { printStructured, type OutputFormat } from './output.js';
import type { RecoveryAction } from '../recovery/model.js';

// `meshmedic analyze` with a running mesh and no files: istioctl's analysis of the live config
// (as `istioctl analyze` against a cluster) plus diagnosis's runtime findings: the checks failing
// now and the ranked causes with their evidence. `-r SERVICE` keeps what bears on one service
// (for causes: the service and everything it depends on); without -n every namespace is read.
// Exit 79 when the analyzers or the runtime found issues, as istioctl does for the analyzers.

export interface LiveOptions {
  namespace: string;
  namespaceGiven: boolean;
  allNamespaces: boolean;
  resource?: string;
  window?: string;
  analyzer: string[];
  meshconfig?: string;
  meshnetworks?: string;
  suppress: string[];
}

interface LiveResource {
  namespace: string;
  origin: { file: string; line: number };
  raw: Record<string, unknown>;
}

export async function analyzeLive(cp: ControlPlaneRecord, opts: LiveOptions, format: OutputFormat, failureThreshold: Level, outputThreshold: Level): Promise<void> {
  if (opts.window !== undefined) {
    const ms = parseDurationMs(opts.window);
    if (ms === undefined || ms < 5000 || ms > 24 * 3_600_000) throw usageError(`--window "${opts.window}" must be a duration from 5s to 24h (30s, 5m, 1h)`);
  }
  const namespace = opts.allNamespaces || !opts.namespaceGiven ? '' : opts.namespace;
  const { items } = await callApi<{ items: LiveResource[] }>(cp, 'GET', '/api/v1/resources');
  const outcome = await analyzeLoaded(liveConfig(items), {
    namespace: namespace || 'default', allNamespaces: namespace === '', analyzers: opts.analyzer, meshConfigFile: opts.meshconfig, meshNetworksFile: opts.meshnetworks, suppress: opts.suppress,
  });
  let messages = outcome.messages.filter((m) => levelAtLeast(m.level, outputThreshold));
  const q = new URLSearchParams();
  if (namespace) q.set('namespace', namespace);
  if (opts.resource) q.set('service', opts.resource);
  if (opts.window) q.set('window', opts.window);
  const report = await callApi<DiagnosisReport>(cp, 'GET', `/api/v1/diagnosis?${q}`);
  if (opts.resource) {
    const ns = namespace || report.causes.find((c) => c.target.service === opts.resource)?.target.namespace;
    const host = `${opts.resource}.${ns ?? ''}.svc.cluster.local`;
    messages = messages.filter((m) => m.resource && hostsOf(m.resource).some((h) => h === host || (!ns && h.startsWith(`${opts.resource}.`))));
  }
  const scope = namespace ? `namespace: ${namespace}` : 'all namespaces';
  if (format !== 'log') {
    printStructured({ staticFindings: messages.map(toOutputObject), runtime: report }, format);
  } else {
    for (const n of outcome.notes) process.stderr.write(`${n}\n`);
    for (const m of messages) process.stdout.write(`${formatLog(m)}\n`);
    if (messages.length === 0) process.stderr.write(`\u2714 No validation issues found when analyzing the live config (${scope}).\n`);
    writeRuntimeFindings(report);
    if (report.incident) await writeRecovery(cp, report.incident);
  }
  const staticIssues = outcome.messages.some((m) => levelAtLeast(m.level, failureThreshold));
  const runtimeIssues = report.detections.length > 0 || report.incident !== undefined;
  if (staticIssues || runtimeIssues) {
    throw new ExitError(EXIT_ANALYZER_FOUND_ISSUES, [
      `Error: ${[staticIssues && 'analyzers found issues in the live config', runtimeIssues && 'the running mesh has runtime issues'].filter(Boolean).join(' and ')} (${scope}).`,
    ]);
  }
}

/** The control plane's resources as loaded resources, keeping the file and line they came from. */
function liveConfig(items: readonly LiveResource[]): LoadResult {
  const out: LoadResult = { resources: [], skipped: [], errors: [] };
  for (const it of items) {
    const r = parseText(stringify(it.raw), it.origin.file || 'live config', { defaultNamespace: it.namespace || 'default' });
    for (const res of r.resources) res.origin = { file: it.origin.file, line: it.origin.line };
    out.resources.push(...r.resources);
    out.skipped.push(...r.skipped);
    out.errors.push(...r.errors);
  }
  return out;
}

/** What recovery did (or proposes) about the open incident, one line per action. */
async function writeRecovery(cp: Parameters<typeof callApi>[0], incident: string): Promise<void> {
  const actions = await callApi<RecoveryAction[]>(cp, 'GET', `/api/v1/recovery/actions?incident=${encodeURIComponent(incident)}`).catch(() => undefined);
  if (!actions) return;
  process.stdout.write('Recovery:\n');
  if (actions.length === 0) process.stdout.write(`  no action yet (plan: meshmedic recover --dry-run --incident ${incident})\n`);
  for (const a of actions) process.stdout.write(`  ${a.id} ${a.kind} [${a.state}] ${a.summary}${a.reason ? ` (${a.reason})` : ''}\n`);
}
