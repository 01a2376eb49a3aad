import type { MetricsSource } from '../../telemetry/metrics-source.js';
import { birthsQuery, historyQuery, SIGNAL_QUERIES, signalQuery, UP_QUERY, type SignalQuery } from './queries.js';
import type { Edge, Entity, SignalWindow } from './snapshot.js';
import { featuresOf, TrafficAssembly, type EdgeMeta, type Side, type WindowRows } from './traffic-assembly.js';
import { rowsOf, type SignalRow } from './traffic-rows.js';

// The traffic part of a SignalSnapshot from any MetricsSource: the four signal queries at the
// end of the current window and at the end of the baseline window, grouped into entities and
// edges with both windows side by side, plus `up` per pod. Istio's metric and label names make
// this the same adapter for the embedded store and for Prometheus on Kubernetes.

export interface TrafficSignals {
  entities: Entity[];
  edges: Edge[];
  instanceEdges: Edge[];
  /** Pod (`namespace/name`) -> answered its last scrape. */
  scrapeUp: Map<string, boolean>;
  queries: string[];
}

export interface TrafficOptions {
  current: SignalWindow;
  baseline: SignalWindow;
  /** Hosts known to be outside the mesh (ServiceEntries with location MESH_EXTERNAL). */
  externalHosts?: ReadonlySet<string>;
  /** Keep only what touches this namespace (as caller or callee). */
  namespace?: string | null;
  /** Detection: no latency histogram (its checks read the mean; the buckets are most of the series). */
  light?: boolean;
  /** Rows of past windows already read (the baseline, read again every round). */
  cache?: WindowCache;
}

/**
 * The rows of a few past windows, by window and kind of read: a window that ended seconds ago
 * does not change (its scrapes are in), and detection and localization read the same baseline
 * every round. A handful of entries: the rounds move on and old windows are not asked again.
 */
export class WindowCache {
  private readonly entries = new Map<string, WindowRows>();

  constructor(private readonly size = 4) {}

  get(key: string): WindowRows | undefined {
    return this.entries.get(key);
  }

  set(key: string, rows: WindowRows): void {
    this.entries.delete(key);
    this.entries.set(key, rows);
    while (this.entries.size > this.size) this.entries.delete(this.entries.keys().next().value!);
  }
}

async function windowRows(source: MetricsSource, w: SignalWindow, queries: string[], light = false): Promise<WindowRows> {
  const len = Math.max(1000, w.endMs - w.startMs);
  const kinds = SIGNAL_QUERIES.filter((q) => !(light && q === 'buckets'));
  const texts = kinds.map((q) => signalQuery(q, len));
  const births = (['requests', 'durationSum'] as const).map((q) => birthsQuery(q, len));
  queries.push(...texts);
  const [answers, bornAnswers, history] = await Promise.all([
    Promise.all(texts.map((t) => source.query(t, w.endMs))),
    Promise.all(births.map((t) => source.query(t, w.endMs))),
    source.query(historyQuery(len), w.endMs),
  ]);
  const out = { buckets: [] } as unknown as Record<SignalQuery, SignalRow[]>;
  kinds.forEach((q, i) => (out[q] = rowsOf(answers[i])));
  const hasHistory = history.resultType === 'vector' && history.result.length > 0 && history.result[0].value[1] > 0;
  if (hasHistory) {
    out.requests = withBirths(out.requests, rowsOf(bornAnswers[0]), len / 1000);
    out.durationSum = withBirths(out.durationSum, rowsOf(bornAnswers[1]), len / 1000);
  }
  return out;
}

/** Series born in the window count their whole value (as a rate over the window) instead of rate()'s estimate. */
function withBirths(rated: SignalRow[], born: SignalRow[], seconds: number): SignalRow[] {
  if (born.length === 0) return rated;
  const key = (r: SignalRow) => JSON.stringify({ ...r, value: 0 });
  const bornRate = new Map(born.map((r) => [key(r), r.value / seconds]));
  const out = rated.map((r) => {
    const b = bornRate.get(key(r));
    if (b === undefined) return r;
    bornRate.delete(key(r));
    return { ...r, value: b };
  });
  for (const r of born) if (bornRate.has(key(r))) out.push({ ...r, value: bornRate.get(key(r))! });
  return out;
}

export async function readTraffic(source: MetricsSource, opts: TrafficOptions): Promise<TrafficSignals> {
  const queries: string[] = [];
  const light = opts.light ?? false;
  const baseKey = `${light ? 'light' : 'full'}|${opts.baseline.startMs}|${opts.baseline.endMs}`;
  const cached = opts.cache?.get(baseKey);
  if (cached) queries.push(...SIGNAL_QUERIES.filter((q) => !(light && q === 'buckets')).map((q) => signalQuery(q, Math.max(1000, opts.baseline.endMs - opts.baseline.startMs))));
  const [cur, base, up] = await Promise.all([
    windowRows(source, opts.current, queries, light),
    cached ?? windowRows(source, opts.baseline, queries, light).then((rows) => (opts.cache?.set(baseKey, rows), rows)),
    source.query(UP_QUERY, opts.current.endMs),
  ]);
  const scrapeUp = new Map<string, boolean>();
  if (up.resultType === 'vector') for (const s of up.result) if (s.metric.pod) scrapeUp.set(`${s.metric.namespace ?? ''}/${s.metric.pod}`, s.value[1] === 1);
  return { ...assembleTraffic(cur, base, opts), scrapeUp, queries: [...new Set(queries)] };
}

/** Both windows' rows into entities and edges (exported for adapters that have rows already). */
export function assembleTraffic(cur: WindowRows, base: WindowRows, opts: TrafficOptions): Omit<TrafficSignals, 'scrapeUp' | 'queries'> {
  const a = new TrafficAssembly(cur);
  const b = new TrafficAssembly(base);
  const curS = seconds(opts.current);
  const baseS = seconds(opts.baseline);
  const meshHosts = new Set([...a.meshHosts, ...b.meshHosts]);
  const isExternal = (host: string) => opts.externalHosts?.has(host) || (!meshHosts.has(host) && !/\.svc(\.|$)/.test(host));
  const ns = opts.namespace ?? null;

  const entities: Entity[] = [];
  for (const key of union(a.things.keys(), b.things.keys())) {
    const meta = (a.things.get(key) ?? b.things.get(key))!.meta;
    const external = meta.kind === 'service' && isExternal(meta.host);
    if (ns !== null && !external && meta.namespace !== ns) continue;
    const e: Entity = {
      id: key,
      kind: external ? 'external' : meta.kind,
      namespace: external ? '' : meta.namespace,
      host: meta.host,
      ...(!external && { service: meta.service }),
      ...(meta.workload && { workload: meta.workload }),
      ...(meta.version && { version: meta.version }),
      ...(meta.instance && { instance: meta.instance }),
      current: featuresOf(a.things.get(key)?.side, curS),
      baseline: featuresOf(b.things.get(key)?.side, baseS),
    };
    const outKey = meta.kind === 'workload' ? `workload|${meta.namespace}/${meta.workload}` : meta.kind === 'instance' ? `instance|${meta.namespace}/${meta.instance}` : undefined;
    if (outKey && (a.outbound.has(outKey) || b.outbound.has(outKey))) {
      e.outbound = { current: a.outbound.get(outKey)?.features(curS) ?? null, baseline: b.outbound.get(outKey)?.features(baseS) ?? null };
    }
    entities.push(e);
  }
  entities.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));

  const serviceOf = (nsName: string, workload: string) => a.serviceOf(nsName, workload) ?? b.serviceOf(nsName, workload);
  const edgesOf = (ma: Map<string, { meta: EdgeMeta; side: Side }>, mb: Map<string, { meta: EdgeMeta; side: Side }>): Edge[] => {
    const out: Edge[] = [];
    for (const key of union(ma.keys(), mb.keys())) {
      const meta = (ma.get(key) ?? mb.get(key))!.meta;
      const external = isExternal(meta.host);
      if (ns !== null && meta.sourceNamespace !== ns && meta.namespace !== ns) continue;
      const sourceService = meta.sourceWorkload === 'unknown' ? undefined : serviceOf(meta.sourceNamespace, meta.sourceWorkload);
      out.push({
        id: key,
        sourceWorkload: meta.sourceWorkload,
        sourceNamespace: meta.sourceNamespace,
        ...(sourceService && { sourceService }),
        ...(meta.sourceInstance && { sourceInstance: meta.sourceInstance }),
        host: meta.host,
        service: meta.service,
        namespace: external ? '' : meta.namespace,
        external,
        protocol: meta.protocol === 'grpc' ? 'grpc' : meta.protocol === 'tcp' ? 'tcp' : 'http',
        current: featuresOf(ma.get(key)?.side, curS),
        baseline: featuresOf(mb.get(key)?.side, baseS),
      });
    }
    return out.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  };
  return { entities, edges: edgesOf(a.edges, b.edges), instanceEdges: edgesOf(a.instanceEdges, b.instanceEdges) };
}

function seconds(w: SignalWindow): number {
  return Math.max(1000, w.endMs - w.startMs) / 1000;
}

function union<T>(x: Iterable<T>, y: Iterable<T>): T[] {
  return [...new Set([...x, ...y])];
}

