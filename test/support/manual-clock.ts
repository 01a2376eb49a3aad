import type { Clock, TimerHandle } from '../../src/proxy/clock.js';

// One manual clock for every test that drives time (timeouts, retries and backoff, fault
// delays, the test upstream): time moves only when a test says so, and a test can wait for
// the code under test to arm a timer instead of sleeping.

interface Timer {
  at: number;
  ms: number;
  fn: () => void;
}

export class ManualClock implements Clock {
  /** Every delay armed, in order (cleared ones included). */
  readonly scheduled: number[] = [];
  private timers: Timer[] = [];
  private waiters: Array<() => void> = [];
  private consumed = 0;
  private armedWait: Promise<number> | null = null;

  constructor(private t = 0) {}

  now = (): number => this.t;

  setTimeout = (fn: () => void, ms: number): TimerHandle => {
    const timer: Timer = { at: this.t + ms, ms, fn };
    this.timers.push(timer);
    this.scheduled.push(ms);
    for (const w of this.waiters.splice(0)) w();
    return timer;
  };

  clearTimeout = (h: TimerHandle): void => {
    this.timers = this.timers.filter((x) => x !== h);
  };

  /** Timers armed and not yet fired or cleared. */
  get pending(): number {
    return this.timers.length;
  }

  /** Resolves once `n` timers are pending (e.g. a request reached a filter and is held). */
  async untilPending(n = 1): Promise<void> {
    while (this.timers.length < n) await new Promise<void>((r) => this.waiters.push(r));
  }

  /** Moves time forward and fires every timer that became due. */
  advance(ms: number): void {
    this.t += ms;
    const due = this.timers.filter((x) => x.at <= this.t);
    this.timers = this.timers.filter((x) => x.at > this.t);
    for (const x of due) x.fn();
  }

  /** Waits for a pending timer if there is none, then moves time to the oldest one and fires it. */
  async fireNext(): Promise<void> {
    await this.untilPending(1);
    const timer = this.timers.shift()!;
    this.t = Math.max(this.t, timer.at);
    timer.fn();
  }

  /**
   * The next armed delay not yet returned by this method, waiting for it to be armed. Callers
   * waiting at the same time share one answer (a test may race it against a response), so no
   * armed delay is taken by a caller that stopped listening.
   */
  nextArmed(): Promise<number> {
    if (this.scheduled.length > this.consumed) return Promise.resolve(this.scheduled[this.consumed++]);
    this.armedWait ??= (async () => {
      while (this.scheduled.length <= this.consumed) await new Promise<void>((r) => this.waiters.push(r));
      this.armedWait = null;
      return this.scheduled[this.consumed++];
    })();
    return this.armedWait;
  }

  /** Delays armed that nextArmed() has not returned yet. */
  get unconsumed(): number {
    return this.scheduled.length - this.consumed;
  }
}
