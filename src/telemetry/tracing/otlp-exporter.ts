import type { Clock, TimerHandle } from '../../proxy/clock.js';
import { toOtlpRequest } from './otlp-json.js';
import type { Span } from './span.js';

// Export to an OpenTelemetry collector over OTLP/HTTP with the JSON encoding, when one is
// configured (`meshmedic up --otlp-endpoint URL`). The control plane queues the spans it
// accepts (bounded: a full queue drops and counts) and posts them in batches every
// `flushIntervalMs` or once `batchSize` are queued; one request at a time, 10 s timeout, a
// failed batch dropped and counted (the collector may be down; the mesh must not slow down
// or grow for it).
//
// The endpoint is read as OTEL_EXPORTER_OTLP_ENDPOINT is: a base URL (`http://host:4318`)
// gets `/v1/traces` appended; a URL with a path other than `/` is used as given, as
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is.

export interface OtlpExporterOptions {
  endpoint: string;
  clock: Clock;
  flushIntervalMs?: number; // default 1000
  batchSize?: number; // default 512 (the OpenTelemetry SDK's batch size)
  maxQueued?: number; // default 20000
  headers?: Record<string, string>;
  log?: (message: string) => void;
}

export interface OtlpExporterStats {
  endpoint: string;
  exported: number;
  dropped: number;
  failed: number;
  queued: number;
  lastError?: string;
}

export function otlpTracesUrl(endpoint: string): string {
  const u = new URL(endpoint);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`OTLP endpoint must be an http(s) URL: ${endpoint}`);
  if (u.pathname === '' || u.pathname === '/') u.pathname = '/v1/traces';
  return u.toString();
}

export class OtlpExporter {
  readonly url: string;
  private queue: Span[] = [];
  private inFlight: Promise<void> | null = null;
  private timer: TimerHandle = undefined;
  private soon: TimerHandle = undefined;
  private stopped = false;
  private readonly counts = { exported: 0, dropped: 0, failed: 0 };
  private lastError: string | undefined;
  private readonly batchSize: number;
  private readonly maxQueued: number;

  constructor(private readonly opts: OtlpExporterOptions) {
    this.url = otlpTracesUrl(opts.endpoint);
    this.batchSize = opts.batchSize ?? 512;
    this.maxQueued = opts.maxQueued ?? 20_000;
  }

  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    const tick = () => {
      this.timer = this.opts.clock.setTimeout(tick, this.opts.flushIntervalMs ?? 1000);
      void this.flush();
    };
    this.timer = this.opts.clock.setTimeout(tick, this.opts.flushIntervalMs ?? 1000);
  }

  /** Queues spans for export; never blocks, never throws. */
  export(spans: readonly Span[]): void {
    for (const s of spans) {
      if (this.queue.length >= this.maxQueued) this.counts.dropped++;
      else this.queue.push(s);
    }
    if (this.queue.length >= this.batchSize && this.soon === undefined && !this.stopped) {
      this.soon = this.opts.clock.setTimeout(() => {
        this.soon = undefined;
        void this.flush();
      }, 0);
    }
  }

  /** Posts the queue in batches; resolves when done (failures are counted). */
  async flush(): Promise<void> {
    while (this.queue.length > 0) {
      if (this.inFlight) {
        await this.inFlight;
        continue;
      }
      const batch = this.queue.splice(0, this.batchSize);
      this.inFlight = this.post(batch);
      try {
        await this.inFlight;
      } finally {
        this.inFlight = null;
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.opts.clock.clearTimeout(this.timer);
    this.opts.clock.clearTimeout(this.soon);
    this.timer = this.soon = undefined;
    await this.flush();
  }

  stats(): OtlpExporterStats {
    return { endpoint: this.url, ...this.counts, queued: this.queue.length, ...(this.lastError !== undefined && { lastError: this.lastError }) };
  }

  private async post(batch: Span[]): Promise<void> {
    try {
      const res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...this.opts.headers },
        body: JSON.stringify(toOtlpRequest(batch)),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
      // OTLP: a 200 may still say some spans were rejected (partialSuccess).
      const rejected = Number(parsePartial(text));
      this.counts.exported += batch.length - rejected;
      this.counts.failed += rejected;
      this.lastError = undefined;
    } catch (e) {
      this.counts.failed += batch.length;
      const why = (e as Error).message;
      if (why !== this.lastError) this.opts.log?.(`OTLP export to ${this.url} failed (${batch.length} spans dropped): ${why}`);
      this.lastError = why;
    }
  }
}

function parsePartial(text: string): number {
  if (!text) return 0;
  try {
    const n = Number((JSON.parse(text) as { partialSuccess?: { rejectedSpans?: string | number } }).partialSuccess?.rejectedSpans ?? 0);
    return Number.isFinite(n) && n > 0 ? n : 0;
  } catch {
    return 0;
  }
}
