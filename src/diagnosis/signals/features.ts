import { bucketQuantile } from '../../telemetry/promql/histogram-quantile.js';
import type { Features } from './snapshot.js';

// Adds up rates of Istio series (one row per label set, already rate()d) into the Features of
// one thing. An error is what a caller cannot use: a 5xx, no response at all (code 0), a
// gRPC status other than OK, or a request the proxy failed itself (a response flag other than
// DI, an injected delay): a proxy's local reply to a gRPC call is HTTP 200 with the failure in
// its grpc-status, which a reporter may not record (the flag, NC, UF, UO..., is always there). Quantiles are Prometheus's histogram_quantile over the summed
// bucket rates; the mean is the duration histogram's sum over its count.

export interface RequestRate {
  code: string;
  grpcStatus: string;
  flags: string;
  rate: number;
}

export class FeatureAccumulator {
  private rps = 0;
  private errorRps = 0;
  private appErrorRps = 0;
  private readonly codes = new Map<string, number>();
  private readonly flags = new Map<string, number>();
  private readonly buckets = new Map<number, number>();
  private sumRate = 0;
  private countRate = 0;

  addRequests(r: RequestRate): void {
    if (!(r.rate > 0)) return;
    this.rps += r.rate;
    const key = isGrpcError(r) ? `grpc-${r.grpcStatus}` : isFlaggedFailure(r) && r.code.startsWith('2') ? `${r.code}-${r.flags}` : r.code || '0';
    if (isError(r)) {
      this.errorRps += r.rate;
      if (!r.flags || r.flags === '-') this.appErrorRps += r.rate;
    }
    this.codes.set(key, (this.codes.get(key) ?? 0) + r.rate);
    if (r.flags && r.flags !== '-') this.flags.set(r.flags, (this.flags.get(r.flags) ?? 0) + r.rate);
  }

  addBucket(le: string, rate: number): void {
    const bound = le === '+Inf' ? Infinity : Number(le);
    if (le === '' || Number.isNaN(bound) || !(rate >= 0)) return;
    this.buckets.set(bound, (this.buckets.get(bound) ?? 0) + rate);
  }

  /** Rates of the duration histogram's `_sum` (ms per second) and `_count`. */
  addDuration(sumRate: number, countRate: number): void {
    if (sumRate >= 0 && countRate >= 0) {
      this.sumRate += sumRate;
      this.countRate += countRate;
    }
  }

  /** Another accumulator's figures added to this one's (a service from its workloads). */
  merge(o: FeatureAccumulator): void {
    this.rps += o.rps;
    this.errorRps += o.errorRps;
    this.appErrorRps += o.appErrorRps;
    for (const [k, v] of o.codes) this.codes.set(k, (this.codes.get(k) ?? 0) + v);
    for (const [k, v] of o.flags) this.flags.set(k, (this.flags.get(k) ?? 0) + v);
    for (const [k, v] of o.buckets) this.buckets.set(k, (this.buckets.get(k) ?? 0) + v);
    this.sumRate += o.sumRate;
    this.countRate += o.countRate;
  }

  get empty(): boolean {
    return !(this.rps > 0) && !(this.countRate > 0);
  }

  features(windowSeconds: number): Features | null {
    if (this.empty) return null;
    const n = this.rps;
    const perWindow = (m: Map<string, number>) => Object.fromEntries([...m.keys()].sort().map((k) => [k, round(m.get(k)! * windowSeconds)]));
    return {
      rps: n,
      requests: round(n * windowSeconds),
      errorRps: this.errorRps,
      errorRatio: n > 0 ? this.errorRps / n : null,
      appErrorRps: this.appErrorRps,
      codes: perWindow(this.codes),
      flags: perWindow(this.flags),
      latency: this.quantiles(),
      meanMs: this.countRate > 0 ? this.sumRate / this.countRate : null,
    };
  }

  private quantiles(): Features['latency'] {
    if (this.buckets.size === 0) return null;
    const list = [...this.buckets].map(([upperBound, count]) => ({ upperBound, count }));
    const out = { p50: bucketQuantile(0.5, list), p95: bucketQuantile(0.95, list), p99: bucketQuantile(0.99, list) };
    return Number.isFinite(out.p50) ? out : null;
  }
}

export function isGrpcError(r: { code: string; grpcStatus: string }): boolean {
  return r.grpcStatus !== '' && r.grpcStatus !== '0' && !(r.code.startsWith('5') || r.code === '0');
}

/** A success code with a failure flag: the proxy answered for an upstream it could not use. */
export function isFlaggedFailure(r: { flags?: string }): boolean {
  return !!r.flags && r.flags !== '-' && r.flags.split(',').some((f) => f !== 'DI' && f !== '');
}

export function isError(r: { code: string; grpcStatus: string; flags?: string }): boolean {
  return r.code.startsWith('5') || r.code === '0' || isGrpcError(r) || (isFlaggedFailure(r) && !r.code.startsWith('4'));
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
