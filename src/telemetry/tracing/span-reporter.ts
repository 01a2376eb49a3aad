import type { Clock, TimerHandle } from '../../proxy/clock.js';
import type { Span, SpanSink } from './span.js';

// The sidecar's span reporter (Envoy's Zipkin reporter, in spirit): finished spans wait in a
// bounded buffer and go to the control plane in batches, `POST /api/v1/spans` with a JSON
// array, every `flushIntervalMs` or as soon as `batchSize` spans are waiting, whichever comes
// first. Nothing here runs on a request's path: `add` pushes to an array, and the send is
// scheduled on the injected clock. One batch is in flight at a time; when the buffer is full
// new spans are dropped and counted, and a batch the control plane did not take is dropped and
// counted too (as Envoy does: spans are evidence, not data that must never be lost).

export interface SpanReporterOptions {
  /** The control plane's base URL (`MESH_XDS`). */
  controlPlaneUrl: string;
  clock: Clock;
  flushIntervalMs?: number; // default 1000
  batchSize?: number; // default 200
  maxBuffered?: number; // default 10000
  /** Counters (the sidecar's admin /stats): tracing.spans_sent, _dropped, _failed. */
  stats?: { inc(name: string, by?: number): void };
  log?: (message: string) => void;
  /** How a batch travels (default: HTTP POST); tests may count calls. */
  send?: (url: string, body: string) => Promise<void>;
}

export class SpanReporter implements SpanSink {
  private buffer: Span[] = [];
  private inFlight: Promise<void> | null = null;
  private intervalTimer: TimerHandle = undefined;
  private soonTimer: TimerHandle = undefined;
  private stopped = false;
  private readonly url: string;
  private readonly flushIntervalMs: number;
  private readonly batchSize: number;
  private readonly maxBuffered: number;
  private readonly send: (url: string, body: string) => Promise<void>;
  /** Totals since start (also in the sidecar's stats). */
  readonly counts = { sent: 0, dropped: 0, failed: 0 };
  private lastFailure = '';

  constructor(private readonly opts: SpanReporterOptions) {
    this.url = `${opts.controlPlaneUrl.replace(/\/+$/, '')}/api/v1/spans`;
    this.flushIntervalMs = opts.flushIntervalMs ?? 1000;
    this.batchSize = opts.batchSize ?? 200;
    this.maxBuffered = opts.maxBuffered ?? 10_000;
    this.send = opts.send ?? postJson;
  }

  get buffered(): number {
    return this.buffer.length;
  }

  add(span: Span): void {
    if (this.buffer.length >= this.maxBuffered) {
      this.counts.dropped++;
      this.opts.stats?.inc('tracing.spans_dropped');
      return;
    }
    this.buffer.push(span);
    if (this.buffer.length >= this.batchSize && this.soonTimer === undefined && !this.stopped) {
      this.soonTimer = this.opts.clock.setTimeout(() => {
        this.soonTimer = undefined;
        void this.flush();
      }, 0);
    }
  }

  /** Starts the periodic flush. */
  start(): void {
    if (this.intervalTimer !== undefined || this.stopped) return;
    const tick = () => {
      this.intervalTimer = this.opts.clock.setTimeout(tick, this.flushIntervalMs);
      void this.flush();
    };
    this.intervalTimer = this.opts.clock.setTimeout(tick, this.flushIntervalMs);
  }

  /** Sends what is buffered, one batch at a time; resolves when the sends are done (failures are counted, never thrown). */
  async flush(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (this.buffer.length === 0) return;
    const batch = this.buffer.length <= this.batchSize ? this.buffer : this.buffer.slice(0, this.batchSize);
    this.buffer = batch === this.buffer ? [] : this.buffer.slice(this.batchSize);
    this.inFlight = this.deliver(batch);
    try {
      await this.inFlight;
    } finally {
      this.inFlight = null;
    }
    if (this.buffer.length >= this.batchSize) return this.flush();
  }

  /** Stops the timers and sends what is left (once). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.opts.clock.clearTimeout(this.intervalTimer);
    this.opts.clock.clearTimeout(this.soonTimer);
    this.intervalTimer = this.soonTimer = undefined;
    if (this.inFlight) await this.inFlight;
    while (this.buffer.length > 0) await this.flush();
  }

  private async deliver(batch: Span[]): Promise<void> {
    try {
      await this.send(this.url, JSON.stringify(batch));
      this.counts.sent += batch.length;
      this.opts.stats?.inc('tracing.spans_sent', batch.length);
      this.lastFailure = '';
    } catch (e) {
      this.counts.failed += batch.length;
      this.opts.stats?.inc('tracing.spans_failed', batch.length);
      // One line per kind of failure, not per batch: the control plane may be restarting.
      const why = (e as Error).message;
      if (why !== this.lastFailure) this.opts.log?.(`span report to ${this.url} failed (${batch.length} spans dropped): ${why}`);
      this.lastFailure = why;
    }
  }
}

async function postJson(url: string, body: string): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
}
