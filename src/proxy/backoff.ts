/** Capped exponential backoff: initial, 2x, 4x, ... up to max; `reset()` after a success. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly initialMs = 100,
    private readonly maxMs = 2_000,
  ) {}

  next(): number {
    const ms = Math.min(this.maxMs, this.initialMs * 2 ** this.attempt);
    if (ms < this.maxMs) this.attempt++;
    return ms;
  }

  reset(): void {
    this.attempt = 0;
  }
}
