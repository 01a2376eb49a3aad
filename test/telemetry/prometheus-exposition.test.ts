import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExpositionError, parseExposition, parseSeriesLabels, scanExposition, type ScannedSample } from '../../src/telemetry/prometheus/exposition-parser.js';

// The Prometheus text format parser: what Envoy/Istio sidecars serve at /stats/prometheus.

const ISTIO_SAMPLE = `# HELP istio_requests_total Total requests.
# TYPE istio_requests_total counter
istio_requests_total{reporter="source",source_workload="productpage-v1",destination_service="reviews.bookinfo.svc.cluster.local",response_code="200",response_flags="-"} 42
istio_requests_total{reporter="source",source_workload="productpage-v1",destination_service="reviews.bookinfo.svc.cluster.local",response_code="503",response_flags="UO"} 3
# TYPE istio_request_duration_milliseconds histogram
istio_request_duration_milliseconds_bucket{reporter="source",le="0.5"} 0
istio_request_duration_milliseconds_bucket{reporter="source",le="1"} 2
istio_request_duration_milliseconds_bucket{reporter="source",le="+Inf"} 45
istio_request_duration_milliseconds_sum{reporter="source"} 1234.5
istio_request_duration_milliseconds_count{reporter="source"} 45
`;

test('exposition: counters and histograms are grouped into families with their types', () => {
  const families = parseExposition(ISTIO_SAMPLE);
  assert.deepEqual(
    families.map((f) => [f.name, f.type, f.samples.length]),
    [
      ['istio_requests_total', 'counter', 2],
      ['istio_request_duration_milliseconds', 'histogram', 5],
    ],
  );
  assert.equal(families[0].help, 'Total requests.');
  assert.deepEqual(families[0].samples[1], {
    name: 'istio_requests_total',
    labels: { reporter: 'source', source_workload: 'productpage-v1', destination_service: 'reviews.bookinfo.svc.cluster.local', response_code: '503', response_flags: 'UO' },
    value: 3,
  });
  const hist = families[1].samples;
  assert.deepEqual(
    hist.map((s) => [s.name, s.labels.le, s.value]),
    [
      ['istio_request_duration_milliseconds_bucket', '0.5', 0],
      ['istio_request_duration_milliseconds_bucket', '1', 2],
      ['istio_request_duration_milliseconds_bucket', '+Inf', 45],
      ['istio_request_duration_milliseconds_sum', undefined, 1234.5],
      ['istio_request_duration_milliseconds_count', undefined, 45],
    ],
  );
});

test('exposition: escapes in label values and HELP, special values, timestamps, blanks and comments', () => {
  const text = [
    '# HELP m A help with \\\\ backslash\\nand newline',
    '# TYPE m gauge',
    '# a free comment is ignored',
    '',
    'm{path="/a\\"b\\\\c\\nd",empty=""} NaN',
    '  m{x="1",} +Inf 1700000000123',
    'm{x="2"}\t-Inf',
    'm -1.5e-3',
    'untyped_metric 7',
  ].join('\n');
  const [m, u] = parseExposition(text);
  assert.equal(m.help, 'A help with \\ backslash\nand newline');
  assert.equal(m.type, 'gauge');
  assert.deepEqual(m.samples[0].labels, { path: '/a"b\\c\nd', empty: '' });
  assert.ok(Number.isNaN(m.samples[0].value));
  assert.deepEqual(m.samples[1], { name: 'm', labels: { x: '1' }, value: Infinity, timestampMs: 1700000000123 });
  assert.equal(m.samples[2].value, -Infinity);
  assert.equal(m.samples[3].value, -0.0015);
  assert.deepEqual(u, { name: 'untyped_metric', type: 'untyped', samples: [{ name: 'untyped_metric', labels: {}, value: 7 }] });
});

test('exposition: the scanner hands out each line\'s series text untouched, for the scrape cache', () => {
  const seen: ScannedSample[] = [];
  scanExposition('a_total{b="c",d="e"} 1\r\nz 2\n', { sample: (s) => seen.push(s) });
  assert.deepEqual(
    seen.map((s) => [s.series, s.nameEnd, s.value, s.line]),
    [
      ['a_total{b="c",d="e"}', 7, 1, 1],
      ['z', 1, 2, 2],
    ],
  );
  assert.deepEqual(parseSeriesLabels(seen[0].series, seen[0].nameEnd), { b: 'c', d: 'e' });
  // A label may be called __proto__; it must be kept as a label, not become a prototype.
  const odd = parseSeriesLabels('x{__proto__="p"}', 1);
  assert.deepEqual(Object.keys(odd), ['__proto__']);
  assert.equal(odd.__proto__, 'p');
});

test('exposition: malformed lines fail with the line number', () => {
  const bad: Array<[string, RegExp]> = [
    ['ok 1\nm{a="1" 2', /line 2: unterminated label set/],
    ['m{a=1} 2', /quoted value/],
    ['m{a="1",a="2"} 2', /duplicate label a/],
    ['m abc', /invalid value "abc"/],
    ['m 1 1.5', /invalid timestamp/],
    ['m 1 2 3', /too many fields/],
    ['m', /no value/],
    ['# TYPE m sometype', /unknown metric type/],
    ['9m 1', /expected a metric name/],
    ['m 1\n# TYPE m counter', /TYPE for m must come before its samples/],
  ];
  for (const [text, re] of bad) {
    assert.throws(
      () => parseExposition(text),
      (e: unknown) => e instanceof ExpositionError && e.code === 'E_EXPOSITION_PARSE' && re.test(e.message),
      text,
    );
  }
});
