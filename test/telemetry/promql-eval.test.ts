import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InstantQueryResult, MetricLabels } from '../../src/telemetry/metrics-source.js';
import { MetricsQueryError } from '../../src/telemetry/promql/errors.js';
import { MetricsStore } from '../../src/telemetry/store/metrics-store.js';
import { StoreMetricsSource } from '../../src/telemetry/store/store-source.js';

// PromQL on the embedded store: a fixed data set (one sample every 10 s, 0..300 s) and queries
// with the values Prometheus gives for them (worked out by hand from Prometheus's definitions:
// see the comments).

const S = 1000;
const store = new MetricsStore({ now: () => 300 * S });
const source = new StoreMetricsSource(store, () => 300 * S);

for (let t = 0; t <= 300; t += 10) {
  const ms = t * S;
  store.add({ __name__: 'http_requests_total', job: 'api', instance: '0', code: '200' }, ms, 1 * t);
  store.add({ __name__: 'http_requests_total', job: 'api', instance: '0', code: '500' }, ms, 0.1 * t);
  store.add({ __name__: 'http_requests_total', job: 'api', instance: '1', code: '200' }, ms, 2 * t);
  store.add({ __name__: 'http_requests_total', job: 'web', instance: '2', code: '200' }, ms, 0.5 * t);
  store.add({ __name__: 'lat_bucket', job: 'api', le: '0.5' }, ms, 1 * t);
  store.add({ __name__: 'lat_bucket', job: 'api', le: '1' }, ms, 3 * t);
  store.add({ __name__: 'lat_bucket', job: 'api', le: '+Inf' }, ms, 4 * t);
  store.add({ __name__: 'lat_sum', job: 'api' }, ms, 2.5 * t);
  store.add({ __name__: 'lat_count', job: 'api' }, ms, 4 * t);
  store.add({ __name__: 'instance_weight', instance: '0' }, ms, 2);
  store.add({ __name__: 'instance_weight', instance: '1' }, ms, 4);
  store.add({ __name__: 'temp', room: 'a' }, ms, 20 + 0.1 * t);
  if (t <= 100) store.add({ __name__: 'gone' }, ms, t);
}
// A counter that resets: 0 10 20 30 | 5 15 25 at t = 0..60 s.
[0, 10, 20, 30, 5, 15, 25].forEach((v, i) => store.add({ __name__: 'resets_total' }, i * 10 * S, v));
store.markStale(store.series({ __name__: 'gone' })!, 110 * S);
store.add({ __name__: 'old' }, 0, 7);

type Expected = number | Array<[MetricLabels, number]>;

async function check(query: string, expected: Expected, timeS = 300, ordered = false): Promise<void> {
  const r: InstantQueryResult = await source.query(query, timeS * S);
  if (typeof expected === 'number') {
    assert.equal(r.resultType, 'scalar', query);
    assert.ok(r.resultType === 'scalar' && close(r.result[1], expected), `${query}: ${JSON.stringify(r.result)} != ${expected}`);
    return;
  }
  assert.equal(r.resultType, 'vector', query);
  if (r.resultType !== 'vector') return;
  const got = r.result.map((s) => [s.metric, s.value[1]] as [MetricLabels, number]);
  for (const s of r.result) assert.equal(s.value[0], timeS, `${query}: sample time`);
  const key = ([m]: [MetricLabels, number]) => JSON.stringify(Object.entries(m).sort());
  const sort = (xs: Array<[MetricLabels, number]>) => (ordered ? xs : [...xs].sort((a, b) => (key(a) < key(b) ? -1 : 1)));
  const g = sort(got);
  const e = sort(expected);
  assert.deepEqual(g.map(([m]) => m), e.map(([m]) => m), `${query}: label sets`);
  g.forEach(([m, v], i) => assert.ok(close(v, e[i][1]), `${query} ${JSON.stringify(m)}: ${v} != ${e[i][1]}`));
}

const close = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b)) || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

const api0 = { job: 'api', instance: '0', code: '200' };
const api0err = { job: 'api', instance: '0', code: '500' };
const api1 = { job: 'api', instance: '1', code: '200' };
const web2 = { job: 'web', instance: '2', code: '200' };

test('eval: rate and increase extrapolate as Prometheus does', async () => {
  // Window (240 s, 300 s]: samples at 250..300. Increase over 50 s, extrapolated by the 10 s to
  // the window start (within 1.1 x the sample spacing) -> x 60/50; rate divides by 60 s.
  await check('rate(http_requests_total[1m])', [[api0, 1], [api0err, 0.1], [api1, 2], [web2, 0.5]]);
  await check('increase(http_requests_total{code="500"}[1m])', [[api0err, 6]]);
  // Window (270, 300]: 280, 290, 300. Over 20 s, +10 s to the start -> x 30/20.
  await check('increase(http_requests_total{instance="1"}[30s])', [[api1, 60]]);
  // A counter reset adds back the value before the drop: 25-10 + 30 = 45, x 60/50.
  await check('increase(resets_total[1m])', [[{}, 54]], 60);
  await check('rate(resets_total[1m])', [[{}, 0.9]], 60);
  await check('resets(resets_total[1m])', [[{}, 1]], 60);
  await check('irate(resets_total[1m])', [[{}, 1]], 60);
  await check('irate(resets_total[1m])', [[{}, 0.5]], 40); // after the reset: 5 over 10 s
  await check('delta(temp[1m])', [[{ room: 'a' }, 6]]);
  await check('idelta(temp[1m])', [[{ room: 'a' }, 1]]);
  await check('changes(instance_weight[1m])', [[{ instance: '0' }, 0], [{ instance: '1' }, 0]]);
  // A single sample in the window: no rate.
  await check('rate(http_requests_total[10s])', []);
});

test('eval: over_time functions', async () => {
  await check('count_over_time(temp[1m])', [[{ room: 'a' }, 6]]);
  await check('avg_over_time(temp[1m])', [[{ room: 'a' }, 47.5]]);
  await check('sum_over_time(temp[1m])', [[{ room: 'a' }, 285]]);
  await check('min_over_time(temp[1m])', [[{ room: 'a' }, 45]]);
  await check('max_over_time(temp[1m])', [[{ room: 'a' }, 50]]);
  await check('last_over_time(temp[1m])', [[{ __name__: 'temp', room: 'a' }, 50]]);
});

test('eval: aggregations with by/without, topk/bottomk/quantile', async () => {
  await check('sum by (job) (rate(http_requests_total[1m]))', [[{ job: 'api' }, 3.1], [{ job: 'web' }, 0.5]]);
  await check('sum without (instance, code) (rate(http_requests_total[1m]))', [[{ job: 'api' }, 3.1], [{ job: 'web' }, 0.5]]);
  await check('sum(rate(http_requests_total[1m])) by (job)', [[{ job: 'api' }, 3.1], [{ job: 'web' }, 0.5]]);
  await check('count(http_requests_total)', [[{}, 4]]);
  await check('count by (code) (http_requests_total)', [[{ code: '200' }, 3], [{ code: '500' }, 1]]);
  await check('avg(instance_weight)', [[{}, 3]]);
  await check('max(instance_weight)', [[{}, 4]]);
  await check('min(instance_weight)', [[{}, 2]]);
  await check('quantile(0.5, instance_weight)', [[{}, 3]]);
  await check('topk(2, rate(http_requests_total[1m]))', [[api1, 2], [api0, 1]], 300, true);
  await check('bottomk(1, instance_weight)', [[{ __name__: 'instance_weight', instance: '0' }, 2]]);
  await check('sum by (__name__) (instance_weight)', [[{ __name__: 'instance_weight' }, 6]]);
});

test('eval: histogram_quantile and latency averages', async () => {
  // Bucket rates 1, 3, 4 per second (le 0.5, 1, +Inf): p50 has rank 2 in (0.5, 1] -> 0.5 + 0.5 x 1/2.
  await check('histogram_quantile(0.5, sum by (le) (rate(lat_bucket[1m])))', [[{}, 0.75]]);
  await check('histogram_quantile(0.2, sum by (le) (rate(lat_bucket[1m])))', [[{}, 0.4]]);
  // Rank in the +Inf bucket: the highest finite bound.
  await check('histogram_quantile(0.99, sum by (job, le) (rate(lat_bucket[1m])))', [[{ job: 'api' }, 1]]);
  await check('histogram_quantile(1.5, rate(lat_bucket[1m]))', [[{ job: 'api' }, Infinity]]);
  await check('rate(lat_sum[1m]) / rate(lat_count[1m])', [[{ job: 'api' }, 0.625]]);
});

test('eval: binary operators, vector matching and comparison filters', async () => {
  await check(
    'sum by (job) (rate(http_requests_total{code=~"5.."}[1m])) / sum by (job) (rate(http_requests_total[1m]))',
    [[{ job: 'api' }, 0.1 / 3.1]],
  );
  await check('http_requests_total > 500', [[{ __name__: 'http_requests_total', ...api1 }, 600]]);
  await check('500 < http_requests_total', [[{ __name__: 'http_requests_total', ...api1 }, 600]]);
  await check('rate(http_requests_total[1m]) > bool 0.5', [[api0, 1], [api0err, 0], [api1, 1], [web2, 0]]);
  await check('rate(http_requests_total[1m]) * on(instance) group_left instance_weight', [[api0, 2], [api0err, 0.2], [api1, 8]]);
  await check('instance_weight * on(instance) group_right rate(http_requests_total[1m])', [[api0, 2], [api0err, 0.2], [api1, 8]]);
  await check('rate(http_requests_total{code="200"}[1m]) + on(instance) instance_weight', [[{ instance: '0' }, 3], [{ instance: '1' }, 6]]);
  await check('rate(http_requests_total{code="500"}[1m]) + ignoring(job, code) instance_weight', [[{ instance: '0' }, 2.1]]);
  await check('instance_weight and on(instance) http_requests_total{code="500"}', [[{ __name__: 'instance_weight', instance: '0' }, 2]]);
  await check('instance_weight unless on(instance) http_requests_total{code="500"}', [[{ __name__: 'instance_weight', instance: '1' }, 4]]);
  await check('instance_weight or vector(0)', [[{ __name__: 'instance_weight', instance: '0' }, 2], [{ __name__: 'instance_weight', instance: '1' }, 4], [{}, 0]]);
  await check('-instance_weight', [[{ instance: '0' }, -2], [{ instance: '1' }, -4]]);
  await check('instance_weight % 3', [[{ instance: '0' }, 2], [{ instance: '1' }, 1]]);
  await check('1 + 2 * 3', 7);
  await check('2 ^ 3 ^ 2', 512);
  await check('1 < bool 2', 1);
});

test('eval: offset, staleness, lookback and scalar/vector functions', async () => {
  await check('http_requests_total offset 1m', [
    [{ __name__: 'http_requests_total', ...api0 }, 240],
    [{ __name__: 'http_requests_total', ...api0err }, 24],
    [{ __name__: 'http_requests_total', ...api1 }, 480],
    [{ __name__: 'http_requests_total', ...web2 }, 120],
  ]);
  await check('rate(http_requests_total{instance="1"}[1m] offset 2m)', [[api1, 2]]);
  await check('gone', [[{ __name__: 'gone' }, 100]], 105);
  await check('gone', [], 120); // marked stale at 110 s: gone at once, not 5 minutes later
  await check('old', [[{ __name__: 'old' }, 7]], 299.999);
  await check('old', [], 300); // the 5-minute lookback excludes its start
  await check('scalar(sum(instance_weight))', 6);
  await check('scalar(instance_weight)', NaN); // more than one element
  await check('time()', 300);
  await check('vector(time())', [[{}, 300]]);
  await check('abs(-instance_weight)', [[{ instance: '0' }, 2], [{ instance: '1' }, 4]]);
  await check('clamp_max(instance_weight, 3)', [[{ instance: '0' }, 2], [{ instance: '1' }, 3]]);
  await check('clamp(instance_weight, 3, 3.5)', [[{ instance: '0' }, 3], [{ instance: '1' }, 3.5]]);
  await check('round(temp / 3)', [[{ room: 'a' }, 17]]);
  await check('round(temp / 3, 0.5)', [[{ room: 'a' }, 16.5]]);
  await check('sort_desc(instance_weight)', [[{ __name__: 'instance_weight', instance: '1' }, 4], [{ __name__: 'instance_weight', instance: '0' }, 2]], 300, true);
  await check('sort(instance_weight)', [[{ __name__: 'instance_weight', instance: '0' }, 2], [{ __name__: 'instance_weight', instance: '1' }, 4]], 300, true);
});

test('eval: an instant query of a range selector returns the raw samples of the window', async () => {
  const r = await source.query('instance_weight{instance="0"}[30s]', 300 * S);
  assert.deepEqual(r, {
    resultType: 'matrix',
    result: [{ metric: { __name__: 'instance_weight', instance: '0' }, values: [[280, 2], [290, 2], [300, 2]] }],
  });
});

test('eval: range queries evaluate at every step; scalars become a series without labels', async () => {
  const r = await source.queryRange('sum(rate(http_requests_total{job="api",code="200"}[1m]))', 120 * S, 300 * S, 60 * S);
  assert.deepEqual(r, { resultType: 'matrix', result: [{ metric: {}, values: [[120, 3], [180, 3], [240, 3], [300, 3]] }] });
  const t = await source.queryRange('time()', 0, 20 * S, 10 * S);
  assert.deepEqual(t.result, [{ metric: {}, values: [[0, 0], [10, 10], [20, 20]] }]);
  // Series that exist for only part of the range have only those points.
  const g = await source.queryRange('gone', 90 * S, 130 * S, 10 * S);
  assert.deepEqual(g.result, [{ metric: { __name__: 'gone' }, values: [[90, 90], [100, 100]] }]);
});

test('eval: execution errors and limits are typed', async () => {
  const fails = async (p: Promise<unknown>, code: string, re?: RegExp) => {
    await assert.rejects(p, (e: unknown) => e instanceof MetricsQueryError && e.code === code && (!re || re.test(e.message)));
  };
  await fails(source.query('rate(http_requests_total[1m]) * on(instance) instance_weight', 300 * S), 'E_PROMQL_EXEC', /many-to-one matching must be explicit/);
  await fails(source.query('instance_weight * on(job) group_left http_requests_total', 300 * S), 'E_PROMQL_EXEC', /duplicate series/);
  await fails(source.query('rate({__name__=~"lat_sum|lat_count"}[1m])', 300 * S), 'E_PROMQL_EXEC', /same labelset/);
  await fails(source.queryRange('up', 0, 1e9, 1), 'E_PROMQL_LIMIT');
  await fails(source.queryRange('up', 10, 0, 1), 'E_QUERY_PARAM');
  await fails(source.queryRange('up[1m]', 0, 10, 1), 'E_PROMQL_TYPE');
  await fails(source.query('"a string"', 0), 'E_PROMQL_UNSUPPORTED');
});

test('eval: series and label values', async () => {
  const s = await source.series(['instance_weight', 'http_requests_total{job="web"}'], 0, 300 * S);
  assert.deepEqual(
    s.map((m) => JSON.stringify(m)).sort(),
    [{ __name__: 'http_requests_total', ...web2 }, { __name__: 'instance_weight', instance: '0' }, { __name__: 'instance_weight', instance: '1' }].map((m) => JSON.stringify(Object.fromEntries(Object.entries(m).sort()))).sort(),
  );
  assert.deepEqual(await source.labelValues('job'), ['api', 'web']);
  assert.deepEqual(await source.labelValues('instance', ['http_requests_total{job="api"}']), ['0', '1']);
});
