import type { SpanNode, TraceSource } from '../../telemetry/tracing/trace-source.js';
import type { SignalSnapshot, SignalWindow, TraceCulprit } from './snapshot.js';
import { parseServiceHost } from './traffic-rows.js';

// What the sampled traces say: for each trace with an error, the deepest failing span whose
// children are all fine (a server span that failed with healthy calls below it, or a client
// span that got no server span at all: the destination never answered); for every trace, the
// server span with the most time of its own (its duration minus the time its calls covered).
// Counted per culprit in the current window and, for the slow ones, in the baseline window.

const MAX_TRACES = 300;

export function traceSignals(traces: TraceSource, current: SignalWindow, baseline: SignalWindow): SignalSnapshot['traces'] {
  const culprits = new Map<string, TraceCulprit>();
  const culprit = (c: Omit<TraceCulprit, 'errorTraces' | 'slowTraces' | 'baselineSlowTraces'>): TraceCulprit => {
    const k = `${c.namespace}|${c.service}|${c.workload}|${c.instance}`;
    let x = culprits.get(k);
    if (!x) culprits.set(k, (x = { ...c, errorTraces: 0, slowTraces: 0, baselineSlowTraces: 0 }));
    return x;
  };
  let errorTraces = 0;
  let sampled = 0;
  for (const [w, isCurrent] of [[current, true], [baseline, false]] as const) {
    const list = traces.recent({ sinceMs: w.startMs, limit: MAX_TRACES }).filter((t) => t.startMs <= w.endMs);
    for (const summary of list) {
      const view = traces.trace(summary.traceId);
      if (!view) continue;
      if (isCurrent) sampled++;
      const slow = slowest(view.roots);
      if (slow) {
        const c = culprit(spanIdentity(slow));
        if (isCurrent) c.slowTraces++;
        else c.baselineSlowTraces++;
      }
      if (!isCurrent || !view.error) continue;
      errorTraces++;
      const failing = deepestFailing(view.roots);
      if (failing) culprit(failing).errorTraces++;
    }
  }
  return { errorTraces, sampledTraces: sampled, culprits: [...culprits.values()].sort((a, b) => b.errorTraces - a.errorTraces || b.slowTraces - a.slowTraces) };
}

function spanIdentity(s: SpanNode): Omit<TraceCulprit, 'errorTraces' | 'slowTraces' | 'baselineSlowTraces'> {
  return { service: s.service, namespace: s.namespace, workload: s.workload, instance: s.instance };
}

/** The destination of a client span that no server span answered: from its cluster (`outbound|9080|v1|ratings.bookinfo.svc.cluster.local`). */
function clientDestination(s: SpanNode): Omit<TraceCulprit, 'errorTraces' | 'slowTraces' | 'baselineSlowTraces'> {
  const host = s.upstreamCluster?.split('|')[3] ?? s.url.replace(/^https?:\/\//, '').split(/[/:]/)[0];
  const svc = parseServiceHost(host);
  return { service: svc?.name ?? host, namespace: svc?.namespace ?? '', workload: '', instance: '' };
}

function deepestFailing(roots: SpanNode[]): ReturnType<typeof spanIdentity> | undefined {
  let best: { id: ReturnType<typeof spanIdentity>; depth: number } | undefined;
  const visit = (s: SpanNode, depth: number) => {
    if (s.error) {
      const failingChildren = s.children.filter((c) => c.error);
      if (failingChildren.length === 0) {
        const id = s.kind === 'CLIENT' && !s.children.some((c) => c.kind === 'SERVER') ? clientDestination(s) : spanIdentity(s);
        if (!best || depth > best.depth) best = { id, depth };
      }
    }
    for (const c of s.children) visit(c, depth + 1);
  };
  for (const r of roots) visit(r, 0);
  return best?.id;
}

/** The server span with the largest self time: its duration minus the union of its children's intervals. */
function slowest(roots: SpanNode[]): SpanNode | undefined {
  let best: { s: SpanNode; self: number } | undefined;
  const visit = (s: SpanNode) => {
    if (s.kind === 'SERVER') {
      const self = s.durationMs - covered(s);
      if (!best || self > best.self) best = { s, self };
    }
    for (const c of s.children) visit(c);
  };
  for (const r of roots) visit(r);
  return best?.s;
}

/** Time within a span that its descendants' client spans cover (parallel calls counted once). */
function covered(s: SpanNode): number {
  const intervals: Array<[number, number]> = [];
  const collect = (n: SpanNode) => {
    for (const c of n.children) {
      if (c.kind === 'CLIENT') intervals.push([c.startMs, c.startMs + c.durationMs]);
      else collect(c);
    }
  };
  collect(s);
  intervals.sort((a, b) => a[0] - b[0]);
  let total = 0;
  let end = -Infinity;
  for (const [a, b] of intervals) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}
