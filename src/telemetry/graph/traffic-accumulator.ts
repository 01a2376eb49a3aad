import { responseCodeKey } from '../health/tolerances.js';
import type { ResponseRates } from '../health/health.js';
import { bucketQuantile } from '../promql/histogram-quantile.js';
import type { TrafficRow } from './traffic-rows.js';
import type { TrafficFigures } from './types.js';

// Adds up the rows that make an edge (or a node's inbound or outbound side) and turns them into
// figures. Latency quantiles are Prometheus's histogram_quantile (BucketQuantile) over the
// summed bucket rates: exactly `histogram_quantile(q, sum by (le, <the edge>) (rate(...)))`,
// computed here because an edge's grouping (a caller's service, say) is not always a label.

const QUANTILES = { p50: 0.5, p95: 0.95, p99: 0.99 } as const;

export class TrafficAccumulator {
  private requests = 0;
  private readonly responses: ResponseRates = {};
  private readonly flagRates = new Map<string, number>();
  private http5xx = 0;
  private http4xx = 0;
  private noResponse = 0;
  private grpcRequests = 0;
  private grpcNotOk = 0;
  private readonly buckets = new Map<number, number>();
  private tcpSent = 0;
  private tcpReceived = 0;
  private tcpOpened = 0;
  private tcpSeen = false;
  private mtlsRate = 0;
  private securityReported = 0;

  addRequests(r: TrafficRow): void {
    const v = r.value;
    this.requests += v;
    const code = responseCodeKey(r.protocol, r.responseCode, r.grpcStatus);
    const byCode = (this.responses[r.protocol] ??= {});
    byCode[code] = (byCode[code] ?? 0) + v;
    if (r.responseCode === '0') this.noResponse += v;
    else if (r.responseCode.startsWith('5')) this.http5xx += v;
    else if (r.responseCode.startsWith('4')) this.http4xx += v;
    if (r.protocol === 'grpc') {
      this.grpcRequests += v;
      if (r.grpcStatus !== '' && r.grpcStatus !== '0') this.grpcNotOk += v;
    }
    this.addFlag(r.flags, v);
  }

  addBucket(r: TrafficRow): void {
    const le = r.le === '+Inf' ? Infinity : Number(r.le);
    if (r.le === '' || Number.isNaN(le)) return;
    this.buckets.set(le, (this.buckets.get(le) ?? 0) + r.value);
  }

  addTcp(kind: 'sent' | 'received' | 'opened', r: TrafficRow): void {
    if (r.value > 0) this.tcpSeen = true;
    if (kind === 'sent') this.tcpSent += r.value;
    else if (kind === 'received') this.tcpReceived += r.value;
    else {
      this.tcpOpened += r.value;
      this.addFlag(r.flags, r.value);
    }
  }

  /** Destination-reported traffic (requests or TCP bytes) under a connection_security_policy. */
  addSecurity(policy: string, rate: number): void {
    this.securityReported += rate;
    if (policy === 'mutual_tls') this.mtlsRate += rate;
  }

  get hasTraffic(): boolean {
    return this.requests > 0 || this.tcpSeen;
  }

  private addFlag(flags: string, v: number): void {
    if (flags === '-' || flags === '') return;
    this.flagRates.set(flags, (this.flagRates.get(flags) ?? 0) + v);
  }

  figures(windowSeconds: number): TrafficFigures {
    const n = this.requests;
    const ratio = (x: number) => (n > 0 ? x / n : null);
    const flags: Record<string, number> = {};
    for (const k of [...this.flagRates.keys()].sort()) {
      const count = round(this.flagRates.get(k)! * windowSeconds);
      if (count > 0) flags[k] = count;
    }
    return {
      rps: n,
      requests: round(n * windowSeconds),
      successRatio: n > 0 ? Math.max(0, 1 - (this.http5xx + this.noResponse + this.grpcNotOkNot5xx()) / n) : null,
      errorRatio: ratio(this.http5xx),
      clientErrorRatio: ratio(this.http4xx),
      grpcErrorRatio: this.grpcRequests > 0 ? this.grpcNotOk / this.grpcRequests : null,
      noResponseRatio: ratio(this.noResponse),
      latencyMs: this.latency(),
      flags,
      responses: nonZero(this.responses),
      mtls: this.securityReported > 0 ? this.mtlsRate / this.securityReported : null,
      tcp: this.tcpSeen ? { sentBytesPerSec: this.tcpSent, receivedBytesPerSec: this.tcpReceived, connectionsOpenedPerSec: this.tcpOpened } : null,
    };
  }

  /** gRPC failures not already counted as HTTP 5xx or as no response (a gRPC status on a 200). */
  private grpcNotOkNot5xx(): number {
    let v = 0;
    const grpc = this.responses.grpc;
    if (!grpc) return 0;
    for (const [code, rate] of Object.entries(grpc)) if (/^([1-9]|1[0-6])$/.test(code)) v += rate;
    return v;
  }

  private latency(): TrafficFigures['latencyMs'] {
    if (this.buckets.size === 0) return null;
    const list = [...this.buckets].map(([upperBound, count]) => ({ upperBound, count }));
    const p = (q: number) => bucketQuantile(q, list);
    const out = { p50: p(QUANTILES.p50), p95: p(QUANTILES.p95), p99: p(QUANTILES.p99) };
    return Number.isNaN(out.p50) ? null : out;
  }
}

/** The codes seen in the window (idle series leave zero rates behind). */
function nonZero(r: ResponseRates): ResponseRates {
  const out: ResponseRates = {};
  for (const [protocol, codes] of Object.entries(r)) {
    const kept = Object.entries(codes).filter(([, v]) => v > 0);
    if (kept.length) out[protocol] = Object.fromEntries(kept);
  }
  return out;
}

/** Counts over a window are rates times seconds; a few float ulps are not information. */
function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
