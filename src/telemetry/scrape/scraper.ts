import type { Clock, TimerHandle } from '../../proxy/clock.js';
import type { MetricsStore } from '../store/metrics-store.js';
import { ExpositionFetcher } from './fetch-exposition.js';
import { TargetState, type ScrapeOutcome, type TargetHealth } from './target-state.js';
import type { ScrapeTarget } from './targets.js';

// The scrape loop of the control plane: every `intervalMs` (default 1 s) on the injected clock
// it asks for the current targets (the registry's instances) and scrapes each one not still
// busy with the previous round (one scrape per target at a time, as Prometheus), with a
// timeout. Targets that left get staleness markers. The store's retention runs every few
// rounds. stop() cancels the timer and in-flight scrapes and waits for them.

export interface ScraperOptions {
  clock: Clock;
  store: MetricsStore;
  targets: () => ScrapeTarget[];
  intervalMs?: number;
  /** Default: the interval (Prometheus caps the timeout at the interval). */
  timeoutMs?: number;
  /** How often the store drops expired data (default 10 s). */
  maintainEveryMs?: number;
  /**
   * A round that starts this close to its scheduled time is stamped with the scheduled time
   * (Prometheus's --scrape.timestamp-tolerance): regular timestamps compress to a bit each.
   * Default 10 ms.
   */
  timestampToleranceMs?: number;
}

export class Scraper {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  private readonly maintainEveryMs: number;
  private readonly states = new Map<string, TargetState>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly fetcher: ExpositionFetcher;
  private abort = new AbortController();
  private timer: TimerHandle | undefined;
  private running = false;
  private lastMaintain = -Infinity;
  private rounds = 0;
  private nextDue = 0;

  constructor(private readonly opts: ScraperOptions) {
    this.intervalMs = opts.intervalMs ?? 1000;
    this.timeoutMs = Math.min(opts.timeoutMs ?? this.intervalMs, this.intervalMs);
    this.maintainEveryMs = opts.maintainEveryMs ?? 10_000;
    this.fetcher = new ExpositionFetcher(opts.clock);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.abort = new AbortController();
    this.nextDue = this.opts.clock.now() + this.intervalMs;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.abort.abort();
    await this.idle();
    await this.fetcher.close();
  }

  /** One round now: scrapes every target not busy; resolves when this round's scrapes are done. */
  async scrapeRound(scheduledAt?: number): Promise<void> {
    const actual = this.opts.clock.now();
    const tolerance = this.opts.timestampToleranceMs ?? 10;
    const now = scheduledAt !== undefined && Math.abs(actual - scheduledAt) <= tolerance ? scheduledAt : actual;
    const current = new Map(this.opts.targets().map((t) => [t.key, t]));
    for (const [key, state] of this.states) {
      if (!current.has(key) || !sameLabels(current.get(key)!.labels, state.target.labels)) {
        state.retire(now);
        this.states.delete(key);
      }
    }
    const round: Promise<void>[] = [];
    for (const target of current.values()) {
      let state = this.states.get(target.key);
      if (!state) this.states.set(target.key, (state = new TargetState(target, this.opts.store)));
      if (state.inFlight) continue;
      round.push(this.track(this.scrape(state, now)));
    }
    if (now - this.lastMaintain >= this.maintainEveryMs) {
      this.lastMaintain = now;
      this.opts.store.maintain();
    }
    this.rounds++;
    await Promise.all(round);
  }

  /** Resolves when no scrape is in flight. */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }

  targets(): TargetHealth[] {
    return [...this.states.values()].map((s) => s.health);
  }

  status(): Record<string, unknown> {
    const targets = this.targets();
    return { intervalMs: this.intervalMs, timeoutMs: this.timeoutMs, rounds: this.rounds, targets: targets.length, up: targets.filter((t) => t.health === 'up').length };
  }

  /** Rounds are due at fixed multiples of the interval from start (no drift from timer lateness). */
  private schedule(): void {
    if (!this.running) return;
    const due = this.nextDue;
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = undefined;
      const now = this.opts.clock.now();
      // Skip rounds missed while the process was busy, as Prometheus's ticker does.
      this.nextDue = due + this.intervalMs * Math.max(1, Math.ceil((now - due) / this.intervalMs));
      // The next round is armed first: a slow round never delays the schedule.
      this.schedule();
      this.scrapeRound(due).catch(() => undefined);
    }, Math.max(0, due - this.opts.clock.now()));
  }

  private track(p: Promise<void>): Promise<void> {
    this.inFlight.add(p);
    return p.finally(() => this.inFlight.delete(p));
  }

  private async scrape(state: TargetState, t: number): Promise<void> {
    state.inFlight = true;
    let outcome: ScrapeOutcome;
    try {
      const text = await this.fetcher.fetch(state.target.url, this.timeoutMs, this.abort.signal);
      if (this.abort.signal.aborted) return;
      outcome = state.ingest(text, t);
    } catch (e) {
      if (this.abort.signal.aborted) return;
      outcome = { ok: false, error: (e as Error).message, samples: 0, dropped: 0 };
      state.markAllStale(t);
    } finally {
      state.inFlight = false;
    }
    // Recorded only if the target is still known (it may have left while the scrape ran).
    if (this.states.get(state.target.key) === state) state.recordScrape(t, outcome, Math.max(0, this.opts.clock.now() - t));
    else state.markAllStale(this.opts.clock.now());
  }
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ak = Object.keys(a);
  if (ak.length !== Object.keys(b).length) return false;
  return ak.every((k) => a[k] === b[k]);
}
