import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MetricsQueryError } from '../../src/telemetry/promql/errors.js';
import { parsePromQL } from '../../src/telemetry/promql/parse.js';

// What the subset accepts, and the typed errors for what it does not.

function failsWith(query: string, code: string, feature?: string, message?: RegExp): void {
  assert.throws(
    () => parsePromQL(query),
    (e: unknown) => {
      assert.ok(e instanceof MetricsQueryError, `${query}: ${e}`);
      assert.equal(e.code, code, `${query}: ${e.message}`);
      if (feature) assert.equal(e.feature, feature, query);
      if (message) assert.match(e.message, message, query);
      return true;
    },
  );
}

test('parse: the queries diagnosis and the dashboard need', () => {
  const e = parsePromQL('sum by (destination_service) (rate(istio_requests_total{reporter="destination",response_code=~"5.."}[30s] offset 1m))');
  assert.deepEqual(e, {
    kind: 'aggregate',
    op: 'sum',
    grouping: ['destination_service'],
    without: false,
    expr: {
      kind: 'call',
      func: 'rate',
      args: [
        {
          kind: 'matrix',
          rangeMs: 30_000,
          vector: {
            kind: 'vector',
            offsetMs: 60_000,
            matchers: [
              { name: '__name__', op: '=', value: 'istio_requests_total' },
              { name: 'reporter', op: '=', value: 'destination' },
              { name: 'response_code', op: '=~', value: '5..' },
            ],
          },
        },
      ],
    },
  });
  const q = parsePromQL('histogram_quantile(0.99, sum without (pod) (rate(istio_request_duration_milliseconds_bucket[1m])))');
  assert.equal(q.kind, 'call');
  const ratio = parsePromQL('a / ignoring(response_code) group_left b > bool 0.1');
  assert.equal(ratio.kind, 'binary');
  assert.equal(ratio.kind === 'binary' && ratio.op, '>');
  assert.deepEqual(ratio.kind === 'binary' && ratio.lhs.kind === 'binary' && ratio.lhs.matching, { card: 'many-to-one', on: false, labels: ['response_code'], include: [] });
  assert.deepEqual(parsePromQL('x{"odd.name"="v", a!~`r\\d`}'), {
    kind: 'vector',
    offsetMs: 0,
    matchers: [
      { name: '__name__', op: '=', value: 'x' },
      { name: 'odd.name', op: '=', value: 'v' },
      { name: 'a', op: '!~', value: 'r\\d' },
    ],
  });
  assert.deepEqual(parsePromQL('-1.5e3 + 0x10 * 2m'), {
    kind: 'binary',
    op: '+',
    bool: false,
    lhs: { kind: 'number', value: -1500 },
    rhs: { kind: 'binary', op: '*', bool: false, lhs: { kind: 'number', value: 16 }, rhs: { kind: 'number', value: 120 } },
  });
});

test('parse: offset binds to the selector before it, also as the right operand of a binary operator (as Prometheus)', () => {
  const e = parsePromQL('a unless a offset 30s');
  assert.equal(e.kind, 'binary');
  if (e.kind !== 'binary') return;
  assert.deepEqual([e.lhs.kind === 'vector' && e.lhs.offsetMs, e.rhs.kind === 'vector' && e.rhs.offsetMs], [0, 30_000]);
  const nested = parsePromQL('a + b * rate(c[1m] offset 1m)');
  assert.ok(nested.kind === 'binary' && nested.rhs.kind === 'binary');
  if (nested.kind !== 'binary' || nested.rhs.kind !== 'binary') return;
  const rate = nested.rhs.rhs;
  assert.ok(rate.kind === 'call' && rate.args[0].kind === 'matrix' && rate.args[0].vector.offsetMs === 60_000, JSON.stringify(rate));
  const plain = parsePromQL('a * b offset 2m');
  assert.ok(plain.kind === 'binary' && plain.rhs.kind === 'vector' && plain.rhs.offsetMs === 120_000 && plain.lhs.kind === 'vector' && plain.lhs.offsetMs === 0);
});

test('parse: constructs outside the subset fail with E_PROMQL_UNSUPPORTED naming them', () => {
  failsWith('rate(x[5m:1m])', 'E_PROMQL_UNSUPPORTED', 'subquery');
  failsWith('x @ 1700000000', 'E_PROMQL_UNSUPPORTED', 'modifier:@');
  failsWith('label_replace(x, "a", "$1", "b", "(.*)")', 'E_PROMQL_UNSUPPORTED', 'function:label_replace');
  failsWith('predict_linear(x[5m], 60)', 'E_PROMQL_UNSUPPORTED', 'function:predict_linear');
  failsWith('stddev(x)', 'E_PROMQL_UNSUPPORTED', 'aggregation:stddev');
  failsWith('count_values("v", x)', 'E_PROMQL_UNSUPPORTED', 'aggregation:count_values');
  failsWith('x[1m + 30s]', 'E_PROMQL_UNSUPPORTED', 'duration-expression');
  failsWith('x atan2 y', 'E_PROMQL_UNSUPPORTED', 'operator:atan2');
  failsWith('x / on(a) fill(0) y', 'E_PROMQL_UNSUPPORTED', 'modifier:fill');
});

test('parse: syntax and type errors have their own codes', () => {
  failsWith('', 'E_PROMQL_SYNTAX');
  failsWith('sum(rate(x[1m]', 'E_PROMQL_SYNTAX', undefined, /syntax error at character/);
  failsWith('x{a="unterminated}', 'E_PROMQL_SYNTAX');
  failsWith('x{a="\\q"}', 'E_PROMQL_SYNTAX', undefined, /invalid escape/);
  failsWith('rate(x)', 'E_PROMQL_TYPE', undefined, /expected type range vector/);
  failsWith('sum(x[1m])', 'E_PROMQL_TYPE');
  failsWith('histogram_quantile(x, y)', 'E_PROMQL_TYPE');
  failsWith('rate(x[1m], 2)', 'E_PROMQL_TYPE', undefined, /expects 1 argument/);
  failsWith('1 > 2', 'E_PROMQL_TYPE', undefined, /bool modifier/);
  failsWith('x + bool y', 'E_PROMQL_TYPE', undefined, /bool modifier can only be used on comparison/);
  failsWith('x and 1', 'E_PROMQL_TYPE');
  failsWith('1 + on(a) x', 'E_PROMQL_TYPE', undefined, /only allowed between instant vectors/);
  failsWith('x / on(a) group_left(a) y', 'E_PROMQL_TYPE');
  failsWith('sum(x) offset 1m', 'E_PROMQL_TYPE', undefined, /offset modifier/);
  failsWith('{a=~".*"}', 'E_PROMQL_TYPE', undefined, /at least one non-empty matcher/);
  failsWith('x{__name__="y"}', 'E_PROMQL_TYPE', undefined, /set twice/);
  failsWith('x{a=~"("}', 'E_PROMQL_BAD_REGEX');
  failsWith('topk(x, y)', 'E_PROMQL_TYPE');
});
