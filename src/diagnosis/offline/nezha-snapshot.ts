import { CLUSTER_SUFFIX } from '../signals/hosts.js';
import type { Edge, Entity, SignalSnapshot, SignalWindow } from '../signals/snapshot.js';
import { columnIndex, windowMean, type CsvTable } from './csv-table.js';
import { serviceOfPod, type NezhaDay, type NezhaFault } from './nezha-dataset.js';
import { NO_LATENCY, recordedFeatures, type RecordedFigures } from './recorded-features.js';

// One fault of Nezha's data as a SignalSnapshot, so the same localize() that runs on the live
// mesh runs on it. Windows (the data has one sample a minute):
// - current: the first CURRENT_S seconds after the injection (Nezha's faults last 180 s);
// - baseline: the BASELINE_S seconds before it. Faults follow each other every 433 s or more in
//   the copied days, so 240 s before an injection is always after the previous fault ended
//   (>= 253 s), yet close enough to share its load level.
// Per service (pods mapped by stripping the pod name's last two dash parts): destination
// reports from PodServerLatency* and PodWorkload (its inbound rate), outbound latency from
// PodClientLatency*, CPU from CpuUsageRate; per call edge (dependency.csv) the median latency
// from both reporters (source_50 / destination_50, Online Boutique only). PodSuccessRate is 0
// in every row (a collection artefact) and is not read; the entry point's SuccessRate is, where
// the file has a non-zero value at all.

export const CURRENT_S = 180;
export const BASELINE_S = 240;
export const NAMESPACE = 'default';

const hostOf = (service: string) => `${service}.${NAMESPACE}.${CLUSTER_SUFFIX}`;

export function faultWindows(f: NezhaFault): { current: SignalWindow; baseline: SignalWindow } {
  const t = f.injectS * 1000;
  return { current: { startMs: t, endMs: t + CURRENT_S * 1000 }, baseline: { startMs: t - BASELINE_S * 1000, endMs: t } };
}

/** Mean of a column over a window of a table whose timestamp column is `tsName`. */
function mean(t: CsvTable | null | undefined, tsName: string, col: string, w: SignalWindow): number | null {
  if (!t) return null;
  return windowMean(t, columnIndex(t, tsName), columnIndex(t, col), w.startMs / 1000, w.endMs / 1000);
}

const sToMs = (v: number | null) => (v === null ? null : v * 1000);

function meanOf(xs: Array<number | null>): number | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

function sumOf(xs: Array<number | null>): number | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? v.reduce((a, b) => a + b, 0) : null;
}

interface ServiceFigures {
  inbound: RecordedFigures;
  outbound: RecordedFigures;
  cpuPercent: number | null;
}

/** A service's figures in a window: rates add up over its pods, latencies and CPU are averaged. */
function serviceFigures(pods: CsvTable[], w: SignalWindow, successRatio: number | null): ServiceFigures {
  const m = (col: string) => pods.map((p) => mean(p, 'TimeStamp', col, w));
  const lat = (side: 'Server' | 'Client') => ({ p50: null, p90: sToMs(meanOf(m(`Pod${side}LatencyP90(s)`))), p95: sToMs(meanOf(m(`Pod${side}LatencyP95(s)`))), p99: sToMs(meanOf(m(`Pod${side}LatencyP99(s)`))) });
  return {
    inbound: { rps: sumOf(m('PodWorkload(Ops)')), latencyMs: lat('Server'), successRatio },
    outbound: { rps: null, latencyMs: lat('Client'), successRatio: null },
    cpuPercent: meanOf(m('CpuUsageRate(%)')),
  };
}

/** The entry point's success ratio, when the file's SuccessRate column is usable (not 0 everywhere). */
function entrySuccess(day: NezhaDay, w: SignalWindow): { service: string; ratio: number | null } | null {
  const t = day.front;
  const col = t ? columnIndex(t, 'SuccessRate(%)') : -1;
  if (!t || col < 0 || !t.rows.some((r) => (r[col] ?? 0) > 0)) return null;
  const name = t.text[0]?.[columnIndex(t, 'ServiceName')]?.trim().toLowerCase() ?? '';
  const v = mean(t, 'TimeStamp', 'SuccessRate(%)', w);
  return { service: name, ratio: v === null ? null : v / 100 };
}

export function nezhaSnapshot(day: NezhaDay, fault: NezhaFault): SignalSnapshot {
  const { current, baseline } = faultWindows(fault);
  const curS = CURRENT_S;
  const baseS = BASELINE_S;
  const podsBy = new Map<string, CsvTable[]>();
  for (const [pod, t] of day.pods) {
    const s = serviceOfPod(pod);
    podsBy.set(s, [...(podsBy.get(s) ?? []), t]);
  }
  const entryCur = entrySuccess(day, current);
  const entryBase = entrySuccess(day, baseline);
  const entities: Entity[] = [];
  for (const service of [...podsBy.keys()].sort()) {
    const pods = podsBy.get(service)!;
    const cur = serviceFigures(pods, current, entryCur?.service === service ? entryCur.ratio : null);
    const base = serviceFigures(pods, baseline, entryBase?.service === service ? entryBase.ratio : null);
    const host = hostOf(service);
    const observed = {
      current: { source: null, destination: recordedFeatures(cur.inbound, curS) },
      baseline: { source: null, destination: recordedFeatures(base.inbound, baseS) },
      cpuPercent: { current: cur.cpuPercent, baseline: base.cpuPercent },
    };
    entities.push({ id: `service|${host}`, kind: 'service', namespace: NAMESPACE, service, host, ...observed });
    // The service's one workload (a Deployment), so that its outbound calls have a caller.
    entities.push({
      id: `workload|${host}|${NAMESPACE}/${service}`, kind: 'workload', namespace: NAMESPACE, service, host, workload: service, ...observed,
      outbound: { current: recordedFeatures(cur.outbound, curS), baseline: recordedFeatures(base.outbound, baseS) },
    });
  }
  const edges: Edge[] = day.calls.map(({ source, target }) => {
    const col = `${source}_${target}`;
    const p50 = (t: CsvTable | null, w: SignalWindow, s: number) => recordedFeatures({ rps: null, latencyMs: { ...NO_LATENCY, p50: sToMs(mean(t, 'timestamp', col, w)) }, successRatio: null }, s);
    return {
      id: `${NAMESPACE}/${source}|${hostOf(target)}`,
      sourceWorkload: source,
      sourceNamespace: NAMESPACE,
      ...(podsBy.has(source) && { sourceService: hostOf(source) }),
      host: hostOf(target),
      service: target,
      namespace: NAMESPACE,
      external: false,
      // Online Boutique's services speak gRPC to each other.
      protocol: 'grpc',
      current: { source: p50(day.source50, current, curS), destination: p50(day.destination50, current, curS) },
      baseline: { source: p50(day.source50, baseline, baseS), destination: p50(day.destination50, baseline, baseS) },
    };
  });
  const notes = [
    'recorded data (Nezha): one sample a minute; no response codes or flags, no latency histograms (means unknown), no per-edge rates',
    ...(entryCur ? [] : ['no usable success ratio at the entry point: error figures are unknown']),
    ...(edges.length ? [] : ['no call graph in the recording: no edges']),
  ];
  return {
    at: current.endMs, current, baseline, namespace: NAMESPACE, entities, edges, instanceEdges: [],
    configChanges: [], instances: [], outlierEvents: [], findings: [], traces: null, queries: [], notes,
  };
}
