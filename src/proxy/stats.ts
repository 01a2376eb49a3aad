// Counters the admin server shows at /stats (Envoy-style `name: value` lines). Any filter can
// add its own names; the per-request ones (requests by response flag) have their own map so the
// hot path does one lookup by flag and builds no strings.

export class Stats {
  private readonly counters = new Map<string, number>();
  private readonly byFlag = new Map<string, number>();
  private requests = 0;

  inc(name: string, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  get(name: string): number {
    if (name === 'http.downstream_rq_total') return this.requests;
    if (name.startsWith(FLAG_PREFIX)) return this.byFlag.get(name.slice(FLAG_PREFIX.length)) ?? 0;
    return this.counters.get(name) ?? 0;
  }

  /** An HTTP request is over: count it, and its response flag (`-` for none). */
  requestDone(flag: string): void {
    this.requests++;
    this.byFlag.set(flag, (this.byFlag.get(flag) ?? 0) + 1);
  }

  toJSON(): Record<string, number> {
    const all = new Map(this.counters);
    all.set('http.downstream_rq_total', this.requests);
    for (const [flag, n] of this.byFlag) all.set(FLAG_PREFIX + flag, n);
    return Object.fromEntries([...all].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  toText(): string {
    return Object.entries(this.toJSON())
      .map(([k, v]) => `${k}: ${v}\n`)
      .join('');
  }
}

const FLAG_PREFIX = 'http.response_flags.';
