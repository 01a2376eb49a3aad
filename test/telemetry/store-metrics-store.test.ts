import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MetricsStore } from '../../src/telemetry/store/metrics-store.js';
import { StoreMetricsSource } from '../../src/telemetry/store/store-source.js';

// The embedded store: selection, retention, downsampling, the series cap, staleness, memory.

const S = 1000;
const MIN = 60 * S;

function clock(start = 0) {
  const c = { t: start, now: () => c.t };
  return c;
}

test('store: selectors with =, !=, =~, !~ find series through the index; absent labels match ""', () => {
  const store = new MetricsStore({ now: () => 0 });
  store.add({ __name__: 'req', svc: 'a', code: '200' }, 1000, 1);
  store.add({ __name__: 'req', svc: 'b', code: '503' }, 1000, 2);
  store.add({ __name__: 'req', svc: 'c' }, 1000, 3);
  store.add({ __name__: 'other', svc: 'a' }, 1000, 4);
  const sel = (...m: Array<[string, '=' | '!=' | '=~' | '!~', string]>) =>
    store
      .select(m.map(([name, op, value]) => ({ name, op, value })))
      .map((s) => s.labels.svc + (s.labels.__name__ === 'other' ? '*' : ''))
      .sort();
  assert.deepEqual(sel(['__name__', '=', 'req']), ['a', 'b', 'c']);
  assert.deepEqual(sel(['__name__', '=', 'req'], ['code', '=~', '5..']), ['b']);
  assert.deepEqual(sel(['__name__', '=', 'req'], ['code', '!~', '5..']), ['a', 'c']);
  assert.deepEqual(sel(['__name__', '=', 'req'], ['code', '=', '']), ['c']);
  assert.deepEqual(sel(['__name__', '=', 'req'], ['code', '!=', '']), ['a', 'b']);
  assert.deepEqual(sel(['svc', '=', 'a']), ['a', 'a*']);
  assert.deepEqual(sel(['__name__', '=~', 'req|other'], ['svc', '!=', 'b']), ['a', 'a*', 'c']);
  assert.deepEqual(sel(['__name__', '=', 'missing']), []);
  // Empty label values are no labels at all, as in Prometheus.
  assert.equal(store.series({ __name__: 'req', svc: 'c', code: '' }), store.series({ __name__: 'req', svc: 'c' }));
});

test('store: out-of-order and duplicate samples are refused and counted', () => {
  const store = new MetricsStore({ now: () => 0 });
  const s = store.series({ __name__: 'x' })!;
  assert.equal(store.append(s, 2000, 1), true);
  assert.equal(store.append(s, 2000, 2), false);
  assert.equal(store.append(s, 1000, 3), false);
  assert.equal(store.append(s, 3000, 4), true);
  assert.equal(store.stats().outOfOrderSamples, 2);
  assert.deepEqual(store.read([{ name: '__name__', op: '=', value: 'x' }], 0, 10_000)[0].vs, [1, 4]);
});

test('store: raw samples expire after the raw retention; older data stays at 1-minute resolution until its own retention', async () => {
  const c = clock();
  const store = new MetricsStore({ now: c.now, rawRetentionMs: 10 * MIN, downsampleIntervalMs: MIN, downsampleRetentionMs: 60 * MIN });
  const counter = store.series({ __name__: 'requests_total', svc: 'a' })!;
  // 40 minutes of a counter growing by 5 a second, scraped every second.
  for (let t = 0; t <= 40 * MIN; t += S) store.append(counter, t, (t / S) * 5);
  c.t = 40 * MIN;
  store.maintain();
  const all = store.read([{ name: 'svc', op: '=', value: 'a' }], 0, c.t)[0];
  const raw = all.ts.filter((t) => t >= 30 * MIN);
  const old = all.ts.filter((t) => t < 30 * MIN);
  // Raw data for the last 10 minutes (plus at most one chunk of 2 minutes: retention works per chunk).
  assert.ok(raw.length >= 600 && raw.length <= 600 + 120 + 1, `raw samples: ${raw.length}`);
  assert.ok(all.ts[0] >= 0);
  // Before that, one sample per minute: the last one of each minute.
  const rawStart = all.ts.findIndex((t, i) => i > 0 && t - all.ts[i - 1] === S) - 1;
  const down = all.ts.slice(0, rawStart);
  assert.ok(down.length >= 25 && down.length <= 30, `downsampled samples: ${down.length}`);
  for (const t of down) assert.equal(t % MIN, MIN - S, `downsampled sample at ${t} is the last of its minute`);
  assert.ok(old.length < 40);
  // rate() over the downsampled part still reads 5/s (as Prometheus would with a 1-minute scrape).
  const source = new StoreMetricsSource(store, c.now);
  const r = await source.query('rate(requests_total[5m])', 15 * MIN);
  assert.equal(r.resultType, 'vector');
  assert.ok(r.resultType === 'vector' && Math.abs(r.result[0].value[1] - 5) < 1e-9, JSON.stringify(r));
  // Across the seam between the resolutions, extrapolation sees the sparse start of the window
  // as a series starting late (as Prometheus would): at most one downsampling interval is lost.
  const seam = await source.query('increase(requests_total[10m])', all.ts[rawStart] + 2 * MIN);
  assert.ok(seam.resultType === 'vector', JSON.stringify(seam));
  const inc = seam.result[0].value[1];
  assert.ok(inc <= 3000 + 1e-6 && inc >= 3000 * (1 - 1 / 10), `increase across the seam: ${inc}`);
  // Entirely inside raw data it is exact.
  const rawOnly = await source.query('increase(requests_total[5m])', 40 * MIN);
  assert.ok(rawOnly.resultType === 'vector' && Math.abs(rawOnly.result[0].value[1] - 1500) < 1e-6, JSON.stringify(rawOnly));
  // Idle for longer than the raw retention: the raw data goes, its last sample stays downsampled.
  c.t = 55 * MIN;
  store.maintain();
  assert.equal(counter.raw.empty, true);
  const last = await source.query('last_over_time(requests_total[20m])', c.t);
  assert.ok(last.resultType === 'vector' && last.result[0].value[1] === 40 * 60 * 5, JSON.stringify(last));
  // After the downsampled retention, nothing is left and the series goes.
  c.t = 40 * MIN + 61 * MIN;
  store.maintain();
  assert.equal(store.seriesCount, 0);
  assert.equal(store.stats().seriesExpired, 1);
  assert.equal(counter.removed, true);
});

test('store: at the series cap the longest idle series makes room; a burst of live series is refused instead', () => {
  const c = clock();
  const store = new MetricsStore({ now: c.now, maxSeries: 10, minIdleForEvictionMs: 30 * S });
  for (let i = 0; i < 10; i++) store.add({ __name__: 'm', i: String(i) }, 1000 + i, 1);
  // Two minutes later series 1..9 are still written; series 0 is not.
  c.t = 2 * MIN;
  for (let i = 1; i < 10; i++) store.add({ __name__: 'm', i: String(i) }, c.t, 2);
  const fresh = store.series({ __name__: 'm', i: 'new' });
  assert.ok(fresh, 'a new series gets in');
  assert.equal(store.stats().seriesEvicted, 1);
  assert.equal(store.select([{ name: 'i', op: '=', value: '0' }]).length, 0, 'series 0, the idle one, is gone');
  store.append(fresh!, c.t, 1);
  // Now every series is live: another new one is refused, and nothing live is dropped.
  assert.equal(store.series({ __name__: 'm', i: 'burst' }), undefined);
  assert.equal(store.stats().seriesRejected, 1);
  assert.equal(store.seriesCount, 10);
});

test('store: memory stays bounded under a long run and a sample costs a few bytes', () => {
  const c = clock();
  const series = 200;
  const store = new MetricsStore({ now: c.now, rawRetentionMs: 5 * MIN, downsampleIntervalMs: MIN, downsampleRetentionMs: 30 * MIN });
  const handles = Array.from({ length: series }, (_, i) => store.series({ __name__: 'istio_requests_total', pod: `p${i}`, response_code: i % 7 ? '200' : '503' })!);
  const values = new Float64Array(series);
  const sizes: number[] = [];
  for (let t = 0; t <= 100 * MIN; t += S) {
    for (let i = 0; i < series; i++) {
      values[i] += (i % 5) + ((t / S) % 3); // counters growing at different rates, some barely
      store.append(handles[i], t, values[i]);
    }
    if (t % (10 * S) === 0) {
      c.t = t;
      store.maintain();
    }
    if (t % (10 * MIN) === 0 && t > 0) sizes.push(store.stats().bytes);
  }
  const stats = store.stats();
  // Samples held per series: 5 min raw and 30 min at 1/min, each plus up to one chunk (retention
  // drops whole chunks: 120 raw samples, 60 downsampled ones).
  assert.ok(stats.rawSamples <= series * (300 + 120 + 1), `raw samples ${stats.rawSamples}`);
  assert.ok(stats.downsampledSamples <= series * (30 + 60 + 1), `downsampled samples ${stats.downsampledSamples}`);
  assert.ok(stats.bytesPerSample < 6, `${stats.bytesPerSample} bytes per sample (with per-series overhead)`);
  // Flat: from 10 to 100 minutes the bytes held move within a quarter (chunks come and go whole).
  assert.ok(Math.max(...sizes) / Math.min(...sizes) < 1.25, `bytes over time: ${sizes.join(', ')}`);
  assert.ok(stats.bytes < series * 4096, `${stats.bytes} bytes for ${series} series`);
});

test('store: staleness markers are kept per series and expire with the data', () => {
  const c = clock();
  const store = new MetricsStore({ now: c.now, rawRetentionMs: MIN, downsampleRetentionMs: 2 * MIN });
  const s = store.series({ __name__: 'x' })!;
  store.append(s, 1000, 1);
  store.markStale(s, 2000);
  store.markStale(s, 3000); // already stale: no second marker
  assert.deepEqual(s.stale, [2000]);
  assert.equal(s.isStale, true);
  store.append(s, 4000, 2);
  assert.equal(s.isStale, false);
  const r = store.read([{ name: '__name__', op: '=', value: 'x' }], 0, 10_000)[0];
  assert.deepEqual([r.ts, r.stale], [[1000, 4000], [2000]]);
  c.t = 3 * MIN + 5000;
  store.maintain();
  assert.equal(store.seriesCount, 0);
});
