import { Pool } from 'undici';
import { seededRandom, type RandomSource } from '../util/seeded-random.js';
import { classifyAnswer, classifyError, type Outcome } from './user-outcome.js';
import type { Bucket } from './slo-window.js';

// Steady user traffic for the demo and the recovery benchmark: GET /productpage at a fixed rate,
// open loop (requests due are sent whether or not earlier ones have answered, as users do),
// with seeded jitter on the gaps so two runs with one seed send the same pattern. Bounded: it
// stops by itself after `maxDurationMs` or `maxRequests`, never holds more than `maxInFlight`
// requests (the rest are skipped and counted), and every request gives up after `timeoutMs`.
// Loopback only: the target is a mesh address on 127.0.0.0/8.

export interface LoadOptions {
  /** `http://127.x.y.z:9080` */
  origin: string;
  path: string;
  rps: number;
  maxDurationMs: number;
  maxRequests: number;
  maxInFlight?: number;
  timeoutMs?: number;
  seed?: number;
  /**
   * Requests sent together at each tick (default 1), the gaps stretched to keep `rps`: users
   * who arrive in groups, as a page's parallel calls do. Pool limits only bite under concurrency.
   */
  burst?: number;
  /** Time source (ms); injected so tests can drive buckets without waiting. */
  now?: () => number;
}

export interface LoadStats {
  sent: number;
  failed: number;
  skipped: number;
  inFlight: number;
  /** Failure reasons and how often each was seen. */
  reasons: Record<string, number>;
}

export class LoadGenerator {
  readonly buckets: Bucket[] = [];
  readonly startedAt: number;
  private readonly pool: Pool;
  private readonly random: RandomSource;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private inFlight = 0;
  private readonly stats: LoadStats = { sent: 0, failed: 0, skipped: 0, inFlight: 0, reasons: {} };
  private drained: Array<() => void> = [];

  constructor(private readonly opts: LoadOptions) {
    if (!/^http:\/\/127\.\d+\.\d+\.\d+:\d+$/.test(opts.origin)) throw new Error(`load targets loopback addresses only, got ${opts.origin}`);
    this.now = opts.now ?? Date.now;
    this.startedAt = this.now();
    this.random = seededRandom(opts.seed ?? 1);
    this.pool = new Pool(opts.origin, { connections: Math.min(64, opts.maxInFlight ?? 64) });
  }

  /** Second index of a time since the start (for slo-window). */
  indexOf(at: number): number {
    return Math.floor((at - this.startedAt) / 1000);
  }

  timeOf(index: number): number {
    return this.startedAt + index * 1000;
  }

  start(): this {
    const burst = Math.max(1, Math.floor(this.opts.burst ?? 1));
    const mean = (1000 * burst) / this.opts.rps;
    const tick = () => {
      if (this.stopped) return;
      if (this.now() - this.startedAt >= this.opts.maxDurationMs || this.stats.sent >= this.opts.maxRequests) return void this.stop();
      for (let i = 0; i < burst && this.stats.sent < this.opts.maxRequests; i++) this.send();
      // Gaps uniform in [0.5, 1.5) x the mean: steady on average, not a metronome.
      this.timer = setTimeout(tick, mean * (0.5 + this.random()));
    };
    tick();
    return this;
  }

  get running(): boolean {
    return !this.stopped;
  }

  snapshot(): LoadStats {
    return { ...this.stats, inFlight: this.inFlight, reasons: { ...this.stats.reasons } };
  }

  /** Stops sending; resolves when every request in flight has answered or given up. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.inFlight > 0) await new Promise<void>((r) => this.drained.push(r));
  }

  async close(): Promise<void> {
    await this.stop();
    await this.pool.destroy();
  }

  private bucket(i: number): Bucket {
    while (this.buckets.length <= i) this.buckets.push({ total: 0, failed: 0, pending: 0 });
    return this.buckets[i];
  }

  private send(): void {
    const sentAt = this.now();
    if (this.inFlight >= (this.opts.maxInFlight ?? 64)) {
      this.stats.skipped++;
      return;
    }
    const b = this.bucket(this.indexOf(sentAt));
    b.total++;
    b.pending++;
    this.stats.sent++;
    this.inFlight++;
    const done = (o: Outcome) => {
      b.pending--;
      if (!o.ok) {
        b.failed++;
        this.stats.failed++;
        const key = (o.reason ?? 'error').startsWith('slow') ? 'slow' : (o.reason ?? 'error'); // one key for every slow answer
        this.stats.reasons[key] = (this.stats.reasons[key] ?? 0) + 1;
      }
      if (--this.inFlight === 0) for (const r of this.drained.splice(0)) r();
    };
    const t0 = performance.now();
    this.pool
      .request({ method: 'GET', path: this.opts.path, signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5000) })
      .then(async (res) => {
        const body = await res.body.text();
        done(classifyAnswer(res.statusCode, body, performance.now() - t0));
      })
      .catch((e) => done(classifyError(e)));
  }
}
