import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { Sidecar } from '../../src/proxy/sidecar.js';
import { prometheusText } from '../../src/telemetry/sidecar/exposition.js';
import { telemetryOf } from '../../src/telemetry/sidecar/sidecar-telemetry.js';
import { StatsServer } from '../../src/telemetry/sidecar/stats-server.js';
import { ManualClock } from '../support/manual-clock.js';
import { startUpstream, viaProxy, type Upstream } from '../proxy/helpers.js';
import { clientSnapshot, completions, find, meshEndpoint, node, parseExposition, serverSnapshot, telemetryChain } from './sidecar-fixture.js';

// Istio's standard HTTP metrics from two real sidecars on loopback: productpage's (outbound,
// reporter="source") calling reviews' (inbound, reporter="destination") in front of an app.
// Every standard label is checked against Istio's values; local replies count with their flags.

const NET = '127.10.140';
const CLIENT = `${NET}.1`;
const SERVER = `${NET}.2`;
const APP = { address: `${NET}.20`, port: 8080 };
const DEAD = `${NET}.99`; // nothing listens: connect failure

const productpage = node(CLIENT, 'productpage-v1-0', 'productpage-v1', { app: 'productpage', version: 'v1' });
const reviews = node(SERVER, 'reviews-v2-0', 'reviews-v2', { app: 'reviews', version: 'v2', 'service.istio.io/canonical-revision': 'rev-7' });

const proxy = { address: CLIENT, port: 15001 };

describe('sidecar metrics: source and destination reports', { timeout: 60_000 }, () => {
  const clock = new ManualClock(1_000_000);
  const clientDone = completions();
  const serverDone = completions();
  const client = new Sidecar({ clock, httpFilters: telemetryChain(clientDone.factory) });
  const server = new Sidecar({ clock, httpFilters: telemetryChain(serverDone.factory) });
  let app: Upstream;
  const statsServer = new StatsServer(client);

  const clientMetrics = () => parseExposition(prometheusText(telemetryOf(client).metrics));
  const serverMetrics = () => parseExposition(prometheusText(telemetryOf(server).metrics));

  before(async () => {
    app = await startUpstream('reviews-app', APP);
    const services = [
      { name: 'reviews', endpoints: [meshEndpoint(SERVER, 9080, reviews)] },
      { name: 'down', endpoints: [{ ...meshEndpoint(SERVER, 9080, reviews), healthy: false }] },
      { name: 'dead', endpoints: [meshEndpoint(DEAD, 9080, reviews)] },
      { name: 'faulty', endpoints: [meshEndpoint(SERVER, 9080, reviews)], action: { fault: { abort: { httpStatus: 418, percentage: { value: 100 } } } } },
    ];
    assert.deepEqual(client.applySnapshot(clientSnapshot('1', productpage, services)), { ok: true });
    assert.deepEqual(server.applySnapshot(serverSnapshot('1', reviews, 'reviews', APP)), { ok: true });
    await Promise.all([client.settled(), server.settled()]);
    await statsServer.listen(CLIENT, 0);
  });

  after(async () => {
    await statsServer.close();
    await client.stop(0);
    await server.stop(0);
    await app.close();
  });

  test('one request: every standard label, from both reporters, with Istio values; the app never sees peer metadata', async () => {
    const res = await viaProxy({ proxy, url: 'http://reviews:9080/reviews/0' });
    assert.equal(res.status, 200);
    await Promise.all([clientDone.until(1), serverDone.until(1)]);
    assert.equal(res.echo!.headers['x-envoy-peer-metadata'], undefined);
    assert.equal(res.echo!.headers['x-envoy-peer-metadata-id'], undefined);

    const common = {
      source_workload: 'productpage-v1', source_canonical_service: 'productpage', source_canonical_revision: 'v1', source_workload_namespace: 'bookinfo',
      source_principal: 'unknown', source_app: 'productpage', source_version: 'v1', source_cluster: 'Kubernetes',
      destination_workload: 'reviews-v2', destination_workload_namespace: 'bookinfo', destination_principal: 'unknown', destination_app: 'reviews',
      destination_version: 'v2', destination_service: 'reviews.bookinfo.svc.cluster.local', destination_canonical_service: 'reviews',
      destination_canonical_revision: 'rev-7', destination_service_name: 'reviews', destination_service_namespace: 'bookinfo', destination_cluster: 'Kubernetes',
      request_protocol: 'http', response_code: '200', grpc_response_status: '', response_flags: '-',
    };
    const source = find(clientMetrics(), 'istio_requests_total');
    assert.deepEqual(source.map((s) => [s.labels, s.value]), [[{ reporter: 'source', ...common, connection_security_policy: 'unknown' }, 1]]);
    const destination = find(serverMetrics(), 'istio_requests_total');
    assert.deepEqual(destination.map((s) => [s.labels, s.value]), [[{ reporter: 'destination', ...common, connection_security_policy: 'none' }, 1]]);
  });

  test('duration: the request held 30 ms on the injected clock lands in the le="50" bucket on both sides', async () => {
    const sent = viaProxy({ proxy, url: 'http://reviews:9080/hang/slow' });
    while (app.held.length === 0) await app.next();
    clock.advance(30);
    app.held.shift()!();
    await sent;
    await Promise.all([clientDone.until(2), serverDone.until(2)]);
    for (const samples of [clientMetrics(), serverMetrics()]) {
      const bucket = (le: string) => find(samples, 'istio_request_duration_milliseconds_bucket', { le })[0].value;
      // The first request took 0 ms (le="0.5"), this one 30 ms.
      assert.equal(bucket('0.5'), 1);
      assert.equal(bucket('25'), 1);
      assert.equal(bucket('50'), 2);
      assert.equal(bucket('+Inf'), 2);
      assert.equal(find(samples, 'istio_request_duration_milliseconds_sum')[0].value, 30);
      assert.equal(find(samples, 'istio_request_duration_milliseconds_count')[0].value, 2);
    }
  });

  test('sizes: request and response bytes count what crossed the client connection (headers and body)', async () => {
    const before = clientMetrics();
    const sumOf = (s: typeof before, name: string) => find(s, name, { response_code: '200' })[0]?.value ?? 0;
    const body = 'x'.repeat(5000);
    const res = await viaProxy({ proxy, url: 'http://reviews:9080/echo', method: 'POST', body, headers: { 'content-type': 'text/plain' } });
    assert.equal(res.status, 200);
    await clientDone.until(3);
    const after = clientMetrics();
    const requestBytes = sumOf(after, 'istio_request_bytes_sum') - sumOf(before, 'istio_request_bytes_sum');
    const responseBytes = sumOf(after, 'istio_response_bytes_sum') - sumOf(before, 'istio_response_bytes_sum');
    assert.ok(requestBytes > 5000 && requestBytes < 5600, `request bytes ${requestBytes}`);
    assert.ok(responseBytes > res.body.length && responseBytes < res.body.length + 600, `response bytes ${responseBytes} for a ${res.body.length}-byte body`);
    assert.equal(find(after, 'istio_request_bytes_bucket', { response_code: '200', le: '10000' })[0].value, 3);
  });

  test('local replies count with their flags, as Envoy reports them (NR, UH, UF, FI)', async () => {
    const base = clientDone.count();
    const nr = await viaProxy({ proxy, url: 'http://nowhere:9080/' });
    const uh = await viaProxy({ proxy, url: 'http://down:9080/' });
    const uf = await viaProxy({ proxy, url: 'http://dead:9080/' });
    const fi = await viaProxy({ proxy, url: 'http://faulty:9080/' });
    await clientDone.until(base + 4);
    assert.deepEqual([nr.status, nr.flag, uh.status, uh.flag, uf.status, uf.flag, fi.status, fi.flag], [404, 'NR', 503, 'UH', 503, 'UF', 418, 'FI']);
    const samples = clientMetrics();
    const one = (flag: string) => {
      const s = find(samples, 'istio_requests_total', { response_flags: flag });
      assert.equal(s.length, 1, `series with flag ${flag}`);
      return s[0];
    };
    // NR: no cluster, so the service is the Host header, and no destination workload is known.
    assert.deepEqual(pick(one('NR').labels, 'response_code', 'destination_service', 'destination_service_name', 'destination_workload', 'destination_canonical_revision'), ['404', 'nowhere:9080', 'nowhere:9080', 'unknown', 'latest']);
    // UH: the cluster's service, no host chosen.
    assert.deepEqual(pick(one('UH').labels, 'response_code', 'destination_service', 'destination_workload', 'destination_service_namespace'), ['503', 'down.bookinfo.svc.cluster.local', 'unknown', 'unknown']);
    // UF: the host was chosen (its workload is known) but never answered.
    assert.deepEqual(pick(one('UF').labels, 'response_code', 'destination_service', 'destination_workload'), ['503', 'dead.bookinfo.svc.cluster.local', 'reviews-v2']);
    assert.deepEqual(pick(one('FI').labels, 'response_code', 'destination_service', 'reporter'), ['418', 'faulty.bookinfo.svc.cluster.local', 'source']);
    for (const flag of ['NR', 'UH', 'UF', 'FI']) assert.equal(one(flag).value, 1);
  });

  test('the stats endpoint serves the same text in Prometheus format, with HELP and TYPE lines', async () => {
    const res = await request(`http://${CLIENT}:${statsServer.port}/stats/prometheus`);
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const text = await res.body.text();
    assert.equal(text, prometheusText(telemetryOf(client).metrics));
    assert.match(text, /^# HELP istio_requests_total .+\n# TYPE istio_requests_total counter\n/m);
    assert.match(text, /^# TYPE istio_request_duration_milliseconds histogram$/m);
    const other = await request(`http://${CLIENT}:${statsServer.port}/stats`);
    assert.equal(other.statusCode, 404);
    await other.body.dump();
  });
});

function pick(labels: Record<string, string>, ...names: string[]): string[] {
  return names.map((n) => labels[n]);
}
