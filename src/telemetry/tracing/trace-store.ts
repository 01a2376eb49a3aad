import type { Span } from './span.js';
import type { TraceQuery, TraceSource, TraceSummary, TraceView } from './trace-source.js';
import { traceSummary, traceView } from './trace-tree.js';

// The control plane's recent traces, in bounded memory: at most `maxTraces` traces and
// `maxSpans` spans in all (and `maxSpansPerTrace` per trace, so one runaway trace cannot push
// every other out), none older than `retentionMs` (by its last span's arrival, on the injected
// clock). When a bound is hit the oldest traces go first (the store keeps traces in the order
// their last span arrived); everything evicted or refused is counted.

export interface TraceStoreOptions {
  clock: { now(): number };
  maxTraces?: number; // default 10000
  maxSpans?: number; // default 100000 (about 55 MB: a bookinfo span takes ~570 bytes here)
  maxSpansPerTrace?: number; // default 1000
  retentionMs?: number; // default 1 h
}

interface StoredTrace {
  spans: Span[];
  spanIds: Set<string>;
  /** `service|namespace` of every span, for queries by service. */
  services: Set<string>;
  startMs: number;
  error: boolean;
  lastArrivalMs: number;
}

export interface TraceStoreStats {
  traces: number;
  spans: number;
  tracesEvicted: number;
  spansEvicted: number;
  /** Spans refused: duplicates, or over the per-trace bound. */
  spansRefused: number;
}

export class TraceStore implements TraceSource {
  private readonly traces = new Map<string, StoredTrace>();
  private spanCount = 0;
  private readonly counters = { tracesEvicted: 0, spansEvicted: 0, spansRefused: 0 };
  private readonly maxTraces: number;
  private readonly maxSpans: number;
  private readonly maxSpansPerTrace: number;
  private readonly retentionMs: number;

  constructor(private readonly opts: TraceStoreOptions) {
    this.maxTraces = opts.maxTraces ?? 10_000;
    this.maxSpans = opts.maxSpans ?? 100_000;
    this.maxSpansPerTrace = opts.maxSpansPerTrace ?? 1000;
    this.retentionMs = opts.retentionMs ?? 3_600_000;
  }

  /** Adds spans (already validated); returns those it kept. */
  add(spans: readonly Span[]): Span[] {
    const now = this.opts.clock.now();
    const kept: Span[] = [];
    for (const span of spans) {
      let t = this.traces.get(span.traceId);
      if (t === undefined) {
        t = { spans: [], spanIds: new Set(), services: new Set(), startMs: span.startMs, error: false, lastArrivalMs: now };
        this.traces.set(span.traceId, t);
      } else {
        // To the back: the map stays in order of last arrival, so the front is always the oldest.
        this.traces.delete(span.traceId);
        this.traces.set(span.traceId, t);
      }
      if (t.spanIds.has(span.spanId) || t.spans.length >= this.maxSpansPerTrace) {
        this.counters.spansRefused++;
        continue;
      }
      t.spans.push(intern(span));
      t.spanIds.add(span.spanId);
      t.services.add(serviceKey(span.service, span.namespace));
      if (span.startMs < t.startMs) t.startMs = span.startMs;
      if (span.error) t.error = true;
      t.lastArrivalMs = now;
      this.spanCount++;
      kept.push(span);
    }
    this.evict(now);
    return kept;
  }

  trace(traceId: string): TraceView | undefined {
    this.evict(this.opts.clock.now());
    const t = this.traces.get(traceId.toLowerCase());
    return t ? traceView(traceId.toLowerCase(), t.spans) : undefined;
  }

  /** Recent traces (newest first by start time) that match the query. */
  recent(q: TraceQuery = {}): TraceSummary[] {
    this.evict(this.opts.clock.now());
    const limit = q.limit ?? 20;
    const matches: Array<[string, StoredTrace]> = [];
    for (const entry of this.traces) {
      const t = entry[1];
      if (q.errorsOnly && !t.error) continue;
      if (q.sinceMs !== undefined && t.startMs < q.sinceMs) continue;
      if ((q.service !== undefined || q.namespace !== undefined) && !touches(t, q.service, q.namespace)) continue;
      matches.push(entry);
    }
    matches.sort((a, b) => b[1].startMs - a[1].startMs);
    return matches.slice(0, limit).map(([id, t]) => traceSummary(id, t.spans));
  }

  stats(): TraceStoreStats {
    return { traces: this.traces.size, spans: this.spanCount, ...this.counters };
  }

  /** Oldest traces out while a bound is exceeded or they are past retention. */
  private evict(now: number): void {
    const cutoff = now - this.retentionMs;
    for (const [id, t] of this.traces) {
      const over = this.traces.size > this.maxTraces || this.spanCount > this.maxSpans;
      if (!over && t.lastArrivalMs >= cutoff) break; // the rest arrived later still
      this.traces.delete(id);
      this.spanCount -= t.spans.length;
      this.counters.tracesEvicted++;
      this.counters.spansEvicted += t.spans.length;
    }
  }
}

/**
 * Spans arrive as parsed JSON, every string a fresh copy; most fields repeat across spans
 * (names, services, clusters, hosts). Keeping one copy of each cuts a span's memory by about a
 * third. The table is bounded: values beyond it (a client's odd user agents) stay as they are.
 */
const INTERNED_FIELDS = ['name', 'service', 'version', 'workload', 'namespace', 'instance', 'method', 'protocol', 'userAgent', 'upstreamCluster', 'upstreamHost', 'responseFlags', 'kind', 'component'] as const;
const MAX_INTERNED = 20_000;
const interned = new Map<string, string>();

function intern(span: Span): Span {
  const s = span as unknown as Record<string, unknown>;
  for (const f of INTERNED_FIELDS) {
    const v = s[f];
    if (typeof v !== 'string') continue;
    const known = interned.get(v);
    if (known !== undefined) s[f] = known;
    else if (interned.size < MAX_INTERNED) interned.set(v, v);
  }
  return span;
}

function serviceKey(service: string, namespace: string): string {
  return `${service}|${namespace}`;
}

function touches(t: StoredTrace, service: string | undefined, namespace: string | undefined): boolean {
  if (service !== undefined && namespace !== undefined) return t.services.has(serviceKey(service, namespace));
  for (const key of t.services) {
    const [s, ns] = key.split('|');
    if ((service === undefined || s === service) && (namespace === undefined || ns === namespace)) return true;
  }
  return false;
}
