import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import type { Change } from '../config/store.js';
import { loadPaths } from '../config/loader.js';
import { levelAtLeast, type Level } from '../config/analysis/catalogue.js';
import { formatLog, toOutputObject } from '../config/analysis/message.js';
import { DiagnosisService, type DiagnosisReport } from '../diagnosis/diagnosis-service.js';
import { hostsOf } from '../diagnosis/signals/config-signals.js';
import { overlay, readCluster, type ClusterState } from '../platform/kube/cluster-state.js';
import { recordRead } from '../platform/kube/config-history.js';
import { ZipkinTraceSource } from '../platform/kube/zipkin-traces.js';
import { DEFAULT_SLO } from '../diagnosis/detection/slo.js';
import { StateDir } from '../platform/local/state-dir.js';
import { contextNamespace } from '../platform/kube/kubeconfig.js';
import { podInstances } from '../platform/kube/pod-instances.js';
import { systemClock } from '../proxy/clock.js';
import { PrometheusSource } from '../telemetry/prometheus/prometheus-source.js';
import { parseDurationMs } from '../telemetry/promql/duration.js';
import { analyzeLoaded } from './analyze.js';
import { writeRuntimeFindings } from './diagnosis-format.js';
import { EXIT_ANALYZER_FOUND_ISSUES, ExitError, usageError } from './exit-codes.js';
import { printStructured, type OutputFormat } from './output.js';
import { kubeClient, platformOptions, withKubeErrors, type PlatformOptions } from './platform-options.js';

// `meshmedic analyze --platform kube [-n NS | -A] [FILES...]`: as `istioctl analyze` against a
// cluster. Every kind meshmedic analyzes is read from the cluster (all namespaces: references
// cross them), the files given are laid over it (a file's object replaces the cluster's of the
// same kind, namespace and name), the mesh config is istiod's ConfigMap unless --meshconfig is
// given, and the messages are those of the namespace (-n, default: the kubeconfig context's) or
// of all (-A). With --prometheus the runtime findings of diagnosis follow, read from
// Prometheus's Istio metrics (plus Zipkin's traces with --traces, and the config change history
// recorded in the state database): the checks failing now and the ranked causes, as `analyze`
// prints them for the local mesh. Output and exit codes are analyze's (79: issues found).

export interface KubeAnalyzeOptions {
  namespace: string;
  allNamespaces: boolean;
  recursive: boolean;
  analyzer: string[];
  meshconfig?: string;
  meshnetworks?: string;
  suppress: string[];
  resource?: string;
  window?: string;
  stateDir?: string;
}

export async function analyzeKube(paths: string[], opts: KubeAnalyzeOptions, cmd: Command, format: OutputFormat, failureThreshold: Level, outputThreshold: Level): Promise<void> {
  const p = platformOptions(cmd);
  const windowMs = opts.window === undefined ? undefined : parseDurationMs(opts.window);
  if (opts.window !== undefined && (windowMs === undefined || windowMs < 5000 || windowMs > 24 * 3_600_000)) throw usageError(`--window "${opts.window}" must be a duration from 5s to 24h (30s, 5m, 1h)`);
  if ((opts.resource !== undefined || opts.window !== undefined) && !p.prometheus) throw usageError('--resource and --window need runtime findings: give --prometheus URL');
  await withKubeErrors(async () => {
    const client = kubeClient(p);
    const namespace = cmd.getOptionValueSource('namespace') === 'cli' ? opts.namespace : contextNamespace(client.config);
    const state = await readCluster(client, { istioNamespace: p.istioNamespace });
    const files = paths.length ? loadPaths(paths, { defaultNamespace: namespace, recursive: opts.recursive }, () => readFileSync(0, 'utf8')) : { resources: [], skipped: [], errors: [] };
    const loaded = overlay(state.loaded, files);
    const outcome = await analyzeLoaded(loaded, {
      namespace, allNamespaces: opts.allNamespaces, analyzers: opts.analyzer, suppress: opts.suppress,
      meshConfigFile: opts.meshconfig, meshNetworksFile: opts.meshnetworks, meshConfig: state.meshConfig, meshNetworks: state.meshNetworks,
    });
    let messages = outcome.messages.filter((m) => levelAtLeast(m.level, outputThreshold));
    const scope = opts.allNamespaces ? 'all namespaces' : `namespace: ${namespace}`;
    let runtime: DiagnosisReport | undefined;
    if (p.prometheus) {
      // Runtime diagnosis reads config changes from the history this read adds to.
      const { history, note } = recordRead(new StateDir(opts.stateDir).root, client.serverUrl, state.served.values(), state.objects);
      if (note) process.stderr.write(`Note: ${note}\n`);
      try {
        const changes = history?.changes() ?? [];
        runtime = await diagnoseFromPrometheus(p, state, loaded.resources, opts.allNamespaces ? null : namespace, opts.resource, windowMs, () => changes);
      } finally {
        history?.close();
      }
    }
    if (runtime && opts.resource) {
      const host = `${opts.resource}.${namespace}.svc.cluster.local`;
      messages = messages.filter((m) => m.resource && hostsOf(m.resource).some((h) => h === host));
    }
    for (const u of state.unreadable) process.stderr.write(`Note: ${u.kind} not read (RBAC: ${u.reason}); analyzers that need it are skipped\n`);
    for (const n of outcome.notes) process.stderr.write(`${n}\n`);
    if (format !== 'log') {
      if (runtime) printStructured({ staticFindings: messages.map(toOutputObject), runtime }, format);
      else if (messages.length) printStructured(messages.map(toOutputObject), format);
    } else {
      for (const m of messages) process.stdout.write(`${formatLog(m)}\n`);
      if (messages.length === 0) process.stderr.write(`\u2714 No validation issues found when analyzing ${scope}.\n`);
      if (runtime) writeRuntimeFindings(runtime, 'Prometheus');
    }
    const staticIssues = outcome.messages.some((m) => levelAtLeast(m.level, failureThreshold));
    const runtimeIssues = runtime !== undefined && runtime.detections.length > 0;
    if (staticIssues || runtimeIssues) {
      throw new ExitError(EXIT_ANALYZER_FOUND_ISSUES, [
        `Error: ${[staticIssues && 'Analyzers found issues', runtimeIssues && 'the mesh has runtime issues'].filter(Boolean).join(' and ')} when analyzing ${scope}.`,
        ...(staticIssues ? ['See https://istio.io/latest/docs/reference/config/analysis for more information about causes and resolutions.'] : []),
      ]);
    }
  });
}

/**
 * Diagnosis over Prometheus: the engine the local mesh runs, with the cluster's config and pods
 * as its registry and Prometheus as its metrics source. One on-demand ranking: the last minute
 * (or --window) against the baseline before it.
 */
export async function diagnoseFromPrometheus(p: PlatformOptions, state: ClusterState, resources: ClusterState['loaded']['resources'], namespace: string | null, service?: string, windowMs?: number, changes?: () => readonly Change[]): Promise<DiagnosisReport> {
  const metrics = new PrometheusSource({ url: p.prometheus! });
  const instances = podInstances(state.objects.get('Pod') ?? []);
  const traces = p.traces ? await fetchTraces(p.traces, windowMs) : undefined;
  // Config changes: the history meshmedic recorded of the cluster's Istio objects (config-history.ts).
  const diagnosis = new DiagnosisService({ metrics, resources: () => resources, instances: () => instances, configVersion: () => 1, ...(changes && { changes }), ...(traces && { traces }) }, systemClock, { detection: false, outlierEvents: false });
  try {
    return await diagnosis.diagnose({ namespace, ...(service && { service }), ...(windowMs !== undefined && { windowMs }) });
  } finally {
    await diagnosis.stop();
    await metrics.close();
  }
}

/** The traces of the window and its baseline from Zipkin (--traces); a query that fails is said and left out, as diagnosis does with any input. */
async function fetchTraces(url: string, windowMs = 60_000): Promise<ZipkinTraceSource | undefined> {
  const traces = new ZipkinTraceSource({ url });
  const now = Date.now();
  try {
    await traces.refresh(now - windowMs - DEFAULT_SLO.baselineMs - 5000, now);
    return traces;
  } catch (e) {
    process.stderr.write(`Note: no traces: ${(e as Error).message}\n`);
    return undefined;
  }
}
