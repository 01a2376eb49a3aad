import { systemClock, type Clock } from '../proxy/clock.js';
import { OtlpExporter, type OtlpExporterStats } from '../telemetry/tracing/otlp-exporter.js';
import { spanProblem, type Span } from '../telemetry/tracing/span.js';
import { TraceStore, type TraceStoreOptions, type TraceStoreStats } from '../telemetry/tracing/trace-store.js';

// The control plane's side of tracing: spans reported by the sidecars are checked, kept in the
// bounded trace store (read by the API, diagnosis and the dashboard) and, when a collector is
// configured, queued for OTLP export. Spans are evidence from the network: one that is not
// well formed is refused alone, the rest of its batch is kept.

export interface TracingOptions {
  /** OTLP/HTTP collector (`http://host:4318` or a full `/v1/traces` URL); absent: no export. */
  otlpEndpoint?: string;
  otlpHeaders?: Record<string, string>;
  /** Bounds of the trace store (defaults in trace-store.ts). */
  store?: Omit<TraceStoreOptions, 'clock'>;
}

export interface IngestResult {
  accepted: number;
  /** Not well formed (the first problem is given). */
  rejected: number;
  /** Well formed but not kept: duplicates or over the per-trace bound. */
  refused: number;
  problem?: string;
}

export interface TracingStatus extends TraceStoreStats {
  spansRejected: number;
  otlp?: OtlpExporterStats;
}

export class TraceService {
  readonly store: TraceStore;
  readonly exporter: OtlpExporter | undefined;
  private rejected = 0;

  constructor(opts: TracingOptions & { clock: { now(): number }; timers?: Clock; log?: (m: string) => void }) {
    this.store = new TraceStore({ ...opts.store, clock: opts.clock });
    if (opts.otlpEndpoint) {
      // Timers of the exporter's flush loop; "now" stays the control plane's clock.
      const clock: Clock = { ...(opts.timers ?? systemClock), now: () => opts.clock.now() };
      this.exporter = new OtlpExporter({ endpoint: opts.otlpEndpoint, headers: opts.otlpHeaders, clock, log: opts.log });
    }
  }

  start(): void {
    this.exporter?.start();
  }

  async stop(): Promise<void> {
    await this.exporter?.stop();
  }

  /** A batch from a sidecar: a JSON array of spans (or `{spans: [...]}`). */
  ingest(body: unknown): IngestResult {
    const list = Array.isArray(body) ? body : Array.isArray((body as { spans?: unknown })?.spans) ? (body as { spans: unknown[] }).spans : null;
    if (list === null) return { accepted: 0, rejected: 0, refused: 0, problem: 'body must be a JSON array of spans' };
    const good: Span[] = [];
    let problem: string | undefined;
    for (const item of list) {
      const p = spanProblem(item);
      if (p === null) good.push(item as Span);
      else problem ??= p;
    }
    const rejected = list.length - good.length;
    this.rejected += rejected;
    const kept = this.store.add(good);
    if (kept.length > 0) this.exporter?.export(kept);
    return { accepted: kept.length, rejected, refused: good.length - kept.length, ...(problem !== undefined && { problem }) };
  }

  status(): TracingStatus {
    return { ...this.store.stats(), spansRejected: this.rejected, ...(this.exporter && { otlp: this.exporter.stats() }) };
  }
}
