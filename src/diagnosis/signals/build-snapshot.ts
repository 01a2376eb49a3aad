import type { WorkloadInstance } from '../../api/snapshot.js';
import type { Resource } from '../../api/resource.js';
import type { Change } from '../../config/store.js';
import type { MetricsSource } from '../../telemetry/metrics-source.js';
import type { TraceSource } from '../../telemetry/tracing/trace-source.js';
import { analysisFindings } from './analysis-signals.js';
import { configChangeSignals } from './config-signals.js';
import { readTraffic, type WindowCache } from './metrics-adapter.js';
import { fetchOutlierEvents } from './outlier-signals.js';
import { externalHostsOf, instanceStates, type ReadinessTracker } from './registry-signals.js';
import type { SignalSnapshot, SignalWindow } from './snapshot.js';
import { traceSignals } from './trace-signals.js';

// Builds a SignalSnapshot from what a mesh offers through interfaces: metrics (MetricsSource:
// the embedded store or Prometheus), traces (TraceSource), the config store's history, the
// registry and the sidecars' outlier event logs. Every input but metrics is optional; one that
// fails is noted and left out, so diagnosis works with what there is.

export interface SnapshotInputs {
  metrics: MetricsSource;
  traces?: TraceSource;
  /** The config in force (for analyzers and external hosts). */
  resources?: () => readonly Resource[];
  /** The store's change history (oldest first). */
  changes?: () => readonly Change[];
  instances?: () => readonly WorkloadInstance[];
  /** The config store's version: analyzer findings are computed once per version. */
  configVersion?: () => number;
  readiness?: ReadinessTracker;
  /** Instances the control plane took out of load balancing on purpose (recovery's quarantine). */
  withdrawn?: (namespace: string, name: string) => boolean;
  /** Ask the sidecars for their outlier events (the local mesh; off for detection's 1 s rounds). */
  outlierEvents?: boolean;
}

export interface SnapshotRequest {
  at: number;
  current: SignalWindow;
  baseline: SignalWindow;
  namespace?: string | null;
  /** Detection needs traffic and registry only; localization wants everything. */
  light?: boolean;
  /** Past windows' rows already read (the baseline is read again every round). */
  cache?: WindowCache;
}

export async function buildSnapshot(inputs: SnapshotInputs, req: SnapshotRequest): Promise<SignalSnapshot> {
  const notes: string[] = [];
  const resources = inputs.resources?.() ?? [];
  const externalHosts = externalHostsOf(resources.filter((r) => r.info.kind === 'ServiceEntry'));
  const traffic = await readTraffic(inputs.metrics, { current: req.current, baseline: req.baseline, externalHosts, namespace: req.namespace ?? null, light: req.light, cache: req.cache });
  const registry = inputs.instances?.() ?? [];
  inputs.readiness?.observe(registry);
  const instances = instanceStates(registry, inputs.readiness, traffic.scrapeUp, inputs.withdrawn);
  const snapshot: SignalSnapshot = {
    at: req.at,
    current: req.current,
    baseline: req.baseline,
    namespace: req.namespace ?? null,
    entities: traffic.entities,
    edges: traffic.edges,
    instanceEdges: traffic.instanceEdges,
    configChanges: [],
    instances,
    outlierEvents: [],
    findings: [],
    traces: null,
    queries: traffic.queries,
    notes,
  };
  if (req.light) return snapshot;
  // Changes the baseline already ran with cannot explain a departure from it: only those after its start count.
  if (inputs.changes) snapshot.configChanges = configChangeSignals(inputs.changes(), req.baseline.startMs, req.at);
  if (resources.length) {
    try {
      snapshot.findings = findingsOf(inputs, resources);
    } catch (e) {
      notes.push(`static analysis failed: ${(e as Error).message}`);
    }
  }
  if (inputs.traces) snapshot.traces = traceSignals(inputs.traces, req.current, req.baseline);
  if (inputs.outlierEvents && registry.length) {
    const r = await fetchOutlierEvents(registry, req.baseline.startMs);
    snapshot.outlierEvents = r.events;
    if (r.unreachable.length) notes.push(`outlier events unavailable from ${r.unreachable.length} sidecar(s): ${r.unreachable.slice(0, 5).join(', ')}${r.unreachable.length > 5 ? ', ...' : ''}`);
  }
  return snapshot;
}

/** Static findings depend on the config alone: once per config version (localization runs every second). */
const findingsCache = new WeakMap<SnapshotInputs, { version: number; findings: ReturnType<typeof analysisFindings> }>();

function findingsOf(inputs: SnapshotInputs, resources: readonly Resource[]): ReturnType<typeof analysisFindings> {
  const version = inputs.configVersion?.();
  const cached = findingsCache.get(inputs);
  if (version !== undefined && cached?.version === version) return cached.findings;
  const findings = analysisFindings(resources);
  if (version !== undefined) findingsCache.set(inputs, { version, findings });
  return findings;
}
