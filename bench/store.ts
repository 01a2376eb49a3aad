import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Benchmark } from './registry.js';
import { MetricsStore } from '../src/telemetry/store/metrics-store.js';
import { StoreMetricsSource } from '../src/telemetry/store/store-source.js';

// The embedded metrics store: ingest an hour of 1 s scrapes of Istio-shaped series (counters
// and duration histograms, --size series, default 10,000), then report memory per sample
// (the store's own account and the V8 heap it really took) and the latency of the queries
// diagnosis and the dashboard run.

const S = 1000;
/** Istio's istio_request_duration_milliseconds bucket bounds (istio-semantics.md). */
const ISTIO_DURATION_BUCKETS_MS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function gc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

interface Edge {
  service: string;
  pod: string;
  rps: number;
  errorRatio: number;
}

export const storeBench: Benchmark = {
  description: 'embedded metrics store: 1 h of 1 s samples for --size series (default 10,000); bytes per sample, ingest rate, query latency',
  async run({ size = 10_000, runs, progress }) {
    const seriesPerEdge = 2 + ISTIO_DURATION_BUCKETS_MS.length + 1 + 2; // 200 and 503 counters; buckets, +Inf, sum, count
    const edges: Edge[] = Array.from({ length: Math.max(1, Math.round(size / seriesPerEdge)) }, (_, i) => ({
      service: `svc-${i % 40}.shop.svc.cluster.local`,
      pod: `pod-${Math.floor(i / 40)}`,
      rps: 5 + (i % 17) * 3,
      errorRatio: i % 11 === 0 ? 0.05 : 0,
    }));
    const hour = 3600;
    const start = 1_700_000_000_000;
    let now = start;
    const store = new MetricsStore({ now: () => now });
    gc();
    const heapBefore = process.memoryUsage().heapUsed;

    const handles = edges.map((e) => {
      const common = {
        reporter: 'destination',
        destination_service: e.service,
        destination_workload: e.service.split('.')[0] + '-v1',
        source_workload: 'frontend-v1',
        pod: e.pod,
        namespace: 'shop',
        job: 'kubernetes-pods',
        instance: `${e.pod}:15090`,
      };
      return {
        ok: store.series({ ...common, __name__: 'istio_requests_total', response_code: '200' })!,
        err: store.series({ ...common, __name__: 'istio_requests_total', response_code: '503' })!,
        buckets: [...ISTIO_DURATION_BUCKETS_MS.map(String), '+Inf'].map((le) => store.series({ ...common, __name__: 'istio_request_duration_milliseconds_bucket', le })!),
        sum: store.series({ ...common, __name__: 'istio_request_duration_milliseconds_sum' })!,
        count: store.series({ ...common, __name__: 'istio_request_duration_milliseconds_count' })!,
      };
    });
    // Cumulative state per edge; latencies mostly 5-50 ms with a tail.
    const shares = [0, 0, 0.05, 0.25, 0.35, 0.2, 0.1, 0.04, 0.01];
    const state = edges.map(() => ({ ok: 0, err: 0, buckets: new Float64Array(ISTIO_DURATION_BUCKETS_MS.length + 1), sum: 0 }));
    let seed = 1;
    const rnd = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);

    const t0 = performance.now();
    let samples = 0;
    for (let s = 0; s < hour; s++) {
      now = start + s * S;
      for (let i = 0; i < edges.length; i++) {
        const e = edges[i];
        const st = state[i];
        const h = handles[i];
        const n = Math.round(e.rps * (0.5 + rnd()));
        const errors = Math.round(n * e.errorRatio);
        st.ok += n - errors;
        st.err += errors;
        let cumulative = 0;
        for (let b = 0; b < st.buckets.length; b++) {
          const added = Math.round(n * (shares[b] ?? 0));
          st.buckets[b] += added;
          st.sum += added * (ISTIO_DURATION_BUCKETS_MS[b] ?? 1000) * 0.7;
        }
        store.append(h.ok, now, st.ok);
        store.append(h.err, now, st.err);
        for (let b = 0; b < st.buckets.length; b++) {
          cumulative += st.buckets[b];
          store.append(h.buckets[b], now, cumulative);
        }
        store.append(h.sum, now, st.sum);
        store.append(h.count, now, cumulative);
        samples += 4 + st.buckets.length;
      }
      if (s % 10 === 0) store.maintain();
      if (s % 600 === 0) progress(`ingested ${s} s of ${hour}: ${samples} samples`);
    }
    const ingestMs = performance.now() - t0;
    gc();
    const heapAfter = process.memoryUsage().heapUsed;
    const stats = store.stats();

    const source = new StoreMetricsSource(store, () => now);
    const queries: Record<string, () => Promise<unknown>> = {
      rateByService: () => source.query('sum by (destination_service) (rate(istio_requests_total{reporter="destination"}[1m]))'),
      errorRatioByService: () =>
        source.query('sum by (destination_service) (rate(istio_requests_total{response_code=~"5.."}[1m])) / sum by (destination_service) (rate(istio_requests_total[1m]))'),
      p99ByService: () => source.query('histogram_quantile(0.99, sum by (destination_service, le) (rate(istio_request_duration_milliseconds_bucket[1m])))'),
      oneServiceP99_30s: () => source.query('histogram_quantile(0.99, sum by (le) (rate(istio_request_duration_milliseconds_bucket{destination_service="svc-3.shop.svc.cluster.local"}[30s])))'),
      rateByServiceLastHour15sStep: () => source.queryRange('sum by (destination_service) (rate(istio_requests_total[1m]))', now - 3600 * S, now, 15 * S),
      oneServiceRateLast15m5sStep: () => source.queryRange('sum(rate(istio_requests_total{destination_service="svc-3.shop.svc.cluster.local"}[30s]))', now - 900 * S, now, 5 * S),
    };
    const queryMs: Record<string, { median: number; min: number }> = {};
    for (const [name, q] of Object.entries(queries)) {
      const times: number[] = [];
      for (let i = 0; i < Math.max(1, runs); i++) {
        const q0 = performance.now();
        await q();
        times.push(performance.now() - q0);
      }
      queryMs[name] = { median: Math.round(median(times) * 10) / 10, min: Math.round(Math.min(...times) * 10) / 10 };
      progress(`${name}: ${queryMs[name].median} ms`);
    }
    return {
      benchmark: 'store',
      series: stats.series,
      samplesIngested: samples,
      samplesHeld: stats.samples,
      ingestSamplesPerSecond: Math.round(samples / (ingestMs / 1000)),
      storeBytes: stats.bytes,
      storeBytesPerSample: Math.round(stats.bytesPerSample * 100) / 100,
      heapBytes: heapAfter - heapBefore,
      heapBytesPerSample: Math.round(((heapAfter - heapBefore) / stats.samples) * 100) / 100,
      queryMs,
      runs,
      node: process.version,
    };
  },
};
