import { createServer, type Server } from 'node:http';
import { PROXY_STATS_PORT } from '../../src/api/snapshot.js';

// A stand-in for a sidecar's :15090 exporter: Istio's istio_requests_total counter and
// istio_request_duration_milliseconds histogram (Istio's buckets), growing deterministically
// with wall-clock time. Every 100 ms tick brings a pseudo-random number of requests in
// [meanPerTick - spread, meanPerTick + spread]; each one fails (503) with `errorRatio` odds and
// gets a latency bucket drawn from `latency`, all from a hash of the tick number: the same
// sequence on every run, bursty enough that two scrapers sampling at different moments see
// different counts, as with real traffic.

export const ISTIO_DURATION_BUCKETS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

export interface FixtureService {
  /** destination_service (FQDN) and the workload this exporter reports for, as destination. */
  service: string;
  workload: string;
  namespace: string;
  version: string;
  meanPerTick: number;
  spread: number;
  errorRatio: number;
  /** Share of requests per bucket upper bound (shares sum to 1). */
  latency: Record<number, number>;
}

export const TICK_MS = 100;
/** Counters start high, as those of a sidecar that has been up a while (no extrapolation to zero). */
const BASE_COUNT = 1_000_000;

export interface FixtureExporter {
  server: Server;
  address: string;
  service: FixtureService;
  scrapes: number;
  close(): Promise<void>;
}

/** Deterministic numbers in [0, 1) from (seed, n). */
function hash01(seed: number, n: number): number {
  let x = (Math.imul(n + 1, 0x9e3779b1) ^ Math.imul(seed + 7, 0x85ebca6b)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d) >>> 0;
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b) >>> 0;
  return ((x ^ (x >>> 16)) >>> 0) / 2 ** 32;
}

/** Cumulative counts after each tick: ok, errors, per-bucket (non-cumulative over buckets). */
class Traffic {
  private ok: number[] = [0];
  private errors: number[] = [0];
  private buckets: number[][] = [ISTIO_DURATION_BUCKETS.map(() => 0)];
  private sum: number[] = [0];

  constructor(
    private readonly s: FixtureService,
    private readonly seed: number,
  ) {}

  at(tick: number): { ok: number; errors: number; buckets: number[]; sum: number } {
    while (this.ok.length <= tick) this.step(this.ok.length - 1);
    return { ok: this.ok[tick], errors: this.errors[tick], buckets: this.buckets[tick], sum: this.sum[tick] };
  }

  private step(n: number): void {
    const s = this.s;
    const count = Math.round(s.meanPerTick - s.spread + hash01(this.seed, n * 3) * 2 * s.spread);
    let errors = 0;
    const buckets = [...this.buckets[n]];
    let sum = this.sum[n];
    for (let i = 0; i < count; i++) {
      if (hash01(this.seed + 1, n * 64 + i) < s.errorRatio) errors++;
      let r = hash01(this.seed + 2, n * 64 + i);
      let b = ISTIO_DURATION_BUCKETS.findIndex((le) => (r -= s.latency[le] ?? 0) < 0);
      if (b < 0) b = ISTIO_DURATION_BUCKETS.length - 1;
      buckets[b]++;
      sum += ISTIO_DURATION_BUCKETS[b] * 0.75; // an observation three quarters up its bucket
    }
    this.ok.push(this.ok[n] + count - errors);
    this.errors.push(this.errors[n] + errors);
    this.buckets.push(buckets);
    this.sum.push(sum);
  }
}

export async function startFixtureExporter(address: string, service: FixtureService, seed: number, start = Date.now()): Promise<FixtureExporter> {
  const traffic = new Traffic(service, seed);
  const ex: FixtureExporter = { server: undefined as unknown as Server, address, service, scrapes: 0, close: async () => undefined };
  ex.server = createServer((req, res) => {
    if (req.url !== '/stats/prometheus') return res.writeHead(404).end();
    ex.scrapes++;
    const tick = Math.max(0, Math.floor((Date.now() - start) / TICK_MS));
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(exposition(service, traffic.at(tick)));
  });
  await new Promise<void>((r) => ex.server.listen(PROXY_STATS_PORT, address, r));
  ex.close = async () => {
    ex.server.closeAllConnections();
    await new Promise((r) => ex.server.close(r));
  };
  return ex;
}

function exposition(s: FixtureService, t: { ok: number; errors: number; buckets: number[]; sum: number }): string {
  const app = s.service.split('.')[0];
  const common =
    `reporter="destination",source_workload="productpage-v1",source_workload_namespace="${s.namespace}",source_app="productpage",source_version="v1",` +
    `destination_workload="${s.workload}",destination_workload_namespace="${s.namespace}",destination_app="${app}",destination_version="${s.version}",` +
    `destination_service="${s.service}",destination_service_name="${app}",destination_service_namespace="${s.namespace}",` +
    `request_protocol="http",connection_security_policy="none"`;
  const lines = ['# HELP istio_requests_total Total requests.', '# TYPE istio_requests_total counter'];
  lines.push(`istio_requests_total{${common},response_code="200",response_flags="-"} ${BASE_COUNT + t.ok}`);
  lines.push(`istio_requests_total{${common},response_code="503",response_flags="UF"} ${BASE_COUNT / 10 + t.errors}`);
  lines.push('# HELP istio_request_duration_milliseconds Request duration.', '# TYPE istio_request_duration_milliseconds histogram');
  // The histogram's base is spread like its traffic, so the base does not move quantiles of totals.
  let cumulative = 0;
  ISTIO_DURATION_BUCKETS.forEach((le, i) => {
    cumulative += t.buckets[i] + Math.round(BASE_COUNT * (s.latency[le] ?? 0));
    lines.push(`istio_request_duration_milliseconds_bucket{${common},le="${le}"} ${cumulative}`);
  });
  lines.push(`istio_request_duration_milliseconds_bucket{${common},le="+Inf"} ${cumulative}`);
  lines.push(`istio_request_duration_milliseconds_sum{${common}} ${BASE_COUNT * 10 + t.sum}`);
  lines.push(`istio_request_duration_milliseconds_count{${common}} ${cumulative}`);
  return lines.join('\n') + '\n';
}
