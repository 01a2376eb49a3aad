import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Histogram, ISTIO_BUCKETS } from '../../src/telemetry/sidecar/histogram.js';
import { prometheusText } from '../../src/telemetry/sidecar/exposition.js';
import { IstioMetricRegistry } from '../../src/telemetry/sidecar/metric-registry.js';

// The exposition format and the histograms behind it: Istio's (Envoy's default) buckets, `le`
// as an inclusive upper bound, cumulative buckets, `_sum` and `_count`, HELP and TYPE once per
// metric, metrics without observations left out; and Prometheus's own parser (promtool) reads it.

const ENSURE = fileURLToPath(new URL('../../../scripts/ensure-debian-packages.sh', import.meta.url));

test("Istio's buckets: Envoy's default bounds, each an inclusive upper bound", () => {
  assert.deepEqual([...ISTIO_BUCKETS], [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000]);
  const h = new Histogram();
  for (const v of [0, 0.5, 0.6, 5, 5.01, 3600000, 3600001]) h.observe(v);
  const c = h.cumulative();
  assert.equal(c[0], 2); // 0 and 0.5: le="0.5"
  assert.equal(c[1], 3); // + 0.6
  assert.equal(c[2], 4); // + 5
  assert.equal(c[3], 5); // + 5.01
  assert.equal(c[ISTIO_BUCKETS.length - 1], 6); // + 3600000
  assert.equal(c[ISTIO_BUCKETS.length], 7); // +Inf
  assert.equal(h.count, 7);
  assert.equal(h.sum, 0 + 0.5 + 0.6 + 5 + 5.01 + 3600000 + 3600001);
});

function sampleRegistry(): IstioMetricRegistry {
  const r = new IstioMetricRegistry();
  const a = r.http('reporter="source",response_code="200"');
  a.requests = 3;
  for (const v of [0.2, 7, 7]) a.duration.observe(v);
  a.responseBytes.observe(120); // request sizes disabled: no istio_request_bytes lines for it
  const b = r.http('reporter="destination",response_code="503"');
  b.requests = 1;
  b.duration.observe(2);
  const t = r.tcp('reporter="source",request_protocol="tcp"');
  t.opened = 1;
  t.sentBytes = 10;
  return r;
}

test('text format: HELP/TYPE once per metric, series sorted, cumulative buckets then sum and count, unused metrics left out', () => {
  const text = prometheusText(sampleRegistry());
  const lines = text.split('\n');
  assert.deepEqual(lines.slice(0, 4), [
    '# HELP istio_requests_total Requests handled by an Istio proxy.',
    '# TYPE istio_requests_total counter',
    'istio_requests_total{reporter="destination",response_code="503"} 1',
    'istio_requests_total{reporter="source",response_code="200"} 3',
  ]);
  assert.ok(text.includes('# TYPE istio_request_duration_milliseconds histogram\n'));
  assert.ok(text.includes('istio_request_duration_milliseconds_bucket{reporter="source",response_code="200",le="0.5"} 1\n'));
  assert.ok(text.includes('istio_request_duration_milliseconds_bucket{reporter="source",response_code="200",le="5"} 1\n'));
  assert.ok(text.includes('istio_request_duration_milliseconds_bucket{reporter="source",response_code="200",le="10"} 3\n'));
  assert.ok(text.includes('istio_request_duration_milliseconds_bucket{reporter="source",response_code="200",le="3600000"} 3\n'));
  assert.ok(text.includes('istio_request_duration_milliseconds_bucket{reporter="source",response_code="200",le="+Inf"} 3\n'));
  assert.ok(text.includes('istio_request_duration_milliseconds_sum{reporter="source",response_code="200"} 14.2\n'));
  assert.ok(text.includes('istio_request_duration_milliseconds_count{reporter="source",response_code="200"} 3\n'));
  assert.equal(text.includes('istio_request_bytes'), false);
  assert.ok(text.includes('istio_response_bytes_count{reporter="source",response_code="200"} 1\n'));
  assert.ok(text.includes('istio_tcp_sent_bytes_total{reporter="source",request_protocol="tcp"} 10\n'));
  assert.ok(text.includes('istio_tcp_connections_opened_total{reporter="source",request_protocol="tcp"} 1\n'));
  assert.equal(text.includes('istio_tcp_received_bytes_total'), false);
  assert.equal(text.includes('istio_tcp_connections_closed_total'), false);
  assert.equal((text.match(/^# TYPE /gm) ?? []).length, 5);
  assert.equal(prometheusText(new IstioMetricRegistry()), '');
});

test('the series cap: beyond it, observations go uncounted in the exposition and are counted as overflow', () => {
  const r = new IstioMetricRegistry(2);
  r.http('a="1"').requests++;
  r.http('a="2"').requests++;
  r.http('a="3"').requests++;
  assert.equal(r.size, 2);
  assert.equal(r.overflowed, 1);
  assert.equal(prometheusText(r).includes('a="3"'), false);
});

test("Prometheus's own parser (promtool check metrics) reads the exposition", () => {
  spawnSync(ENSURE, ['promtool=prometheus'], { stdio: 'inherit' });
  const r = spawnSync('promtool', ['check', 'metrics'], { input: prometheusText(sampleRegistry()), encoding: 'utf8' });
  assert.equal(r.error, undefined, `promtool: ${r.error?.message}`);
  const out = `${r.stdout}${r.stderr}`;
  assert.doesNotMatch(out, /pars(e|ing)|error/i, out);
  // promtool's linter only objects to Istio's own naming (milliseconds rather than base units).
  const complaints = out.split('\n').filter((l) => l.trim() !== '' && !/base unit|milliseconds/.test(l));
  assert.deepEqual(complaints, []);
});
