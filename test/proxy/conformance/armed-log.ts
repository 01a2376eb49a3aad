import type { ManualClock } from '../../support/manual-clock.js';

// The timers a table's requests arm, read in the order they were armed: rows check each delay
// (route timeout, per-try timeout, backoff, fault delay, an upstream's hold) and fire it by
// moving the clock. ManualClock.nextArmed leaves a waiter behind when it loses a race (against a
// response), and that waiter takes the next delay armed, in the next row; this log does not.

/**
 * The delays armed on the fixture's clock (by the sidecar and the upstreams), read in order. Unlike
 * `ManualClock.nextArmed`, a wait that lost a race takes nothing: the next reader gets the value.
 */
export class ArmedLog {
  private seen = 0;
  private wakers: Array<() => void> = [];

  constructor(private readonly clock: ManualClock) {
    const arm = clock.setTimeout;
    clock.setTimeout = (fn, ms) => {
      const handle = arm(fn, ms);
      this.wake();
      return handle;
    };
  }

  /** Delays armed and not read yet. */
  get unseen(): number {
    return this.clock.scheduled.length - this.seen;
  }

  /** Marks every delay armed so far as read. */
  skipAll(): void {
    this.seen = this.clock.scheduled.length;
  }

  /** The next delay armed, waiting for it. */
  async next(): Promise<number> {
    while (this.unseen === 0) await new Promise<void>((resolve) => this.wakers.push(resolve));
    return this.clock.scheduled[this.seen++];
  }

  /** `{ value }` once `p` settles, or else the next delay armed before that. */
  async nextOr<T>(p: Promise<T>): Promise<{ value: T } | { ms: number }> {
    let outcome: { value: T } | { error: unknown } | undefined;
    p.then(
      (value) => ((outcome = { value }), this.wake()),
      (error: unknown) => ((outcome = { error }), this.wake()),
    );
    for (;;) {
      if (outcome && 'error' in outcome) throw outcome.error;
      if (outcome) return outcome;
      if (this.unseen > 0) return { ms: this.clock.scheduled[this.seen++] };
      await new Promise<void>((resolve) => this.wakers.push(resolve));
    }
  }

  private wake(): void {
    for (const w of this.wakers.splice(0)) w();
  }
}
