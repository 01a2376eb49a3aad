import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TelemetrySettings } from '../../src/api/snapshot.js';
import { Sidecar } from '../../src/proxy/sidecar.js';
import { prometheusText } from '../../src/telemetry/sidecar/exposition.js';
import { telemetryOf } from '../../src/telemetry/sidecar/sidecar-telemetry.js';
import { decodePeerMetadata } from '../../src/telemetry/sidecar/peer-metadata.js';
import { startUpstream, viaProxy, type Upstream } from '../proxy/helpers.js';
import { clientSnapshot, completions, find, meshEndpoint, node, parseExposition, telemetryChain } from './sidecar-fixture.js';

// The snapshot's telemetry settings switch metrics per listener direction (all of them, or one
// Istio metric), and the sidecar's default filter chain carries the telemetry filters.

const NET = '127.10.144';
const PROXY = `${NET}.1`;
const DEFAULT_PROXY = `${NET}.2`;
const APP = { address: `${NET}.20`, port: 8080 };

const self = node(PROXY, 'productpage-v1-0', 'productpage-v1', { app: 'productpage', version: 'v1' });
const reviews = node(APP.address, 'reviews-v1-0', 'reviews-v1', { app: 'reviews', version: 'v1' });

describe('sidecar telemetry settings', { timeout: 60_000 }, () => {
  const done = completions();
  const sidecar = new Sidecar({ httpFilters: telemetryChain(done.factory) });
  const plain = new Sidecar(); // the default filter chain
  let app: Upstream;
  let version = 0;
  const apply = async (s: Sidecar, at: typeof self, telemetry?: TelemetrySettings) => {
    assert.deepEqual(s.applySnapshot(clientSnapshot(String(++version), at, [{ name: 'reviews', endpoints: [meshEndpoint(APP.address, APP.port, reviews)] }], telemetry)), { ok: true });
    await s.settled();
  };
  const samples = (s: Sidecar) => parseExposition(prometheusText(telemetryOf(s).metrics));

  before(async () => {
    app = await startUpstream('reviews-app', APP);
  });

  after(async () => {
    await sidecar.stop(0);
    await plain.stop(0);
    await app.close();
  });

  test('metrics disabled: requests are served and nothing is recorded', async () => {
    await apply(sidecar, self, { metrics: { enabled: false } });
    const res = await viaProxy({ proxy: { address: PROXY, port: 15001 }, url: 'http://reviews:9080/' });
    assert.equal(res.status, 200);
    await done.until(1);
    assert.equal(prometheusText(telemetryOf(sidecar).metrics), '');
  });

  test('one metric disabled on outbound listeners (REQUEST_SIZE): the others are still recorded', async () => {
    await apply(sidecar, self, { metrics: { enabled: true, disabled: { outbound: ['REQUEST_SIZE'], inbound: [] } } });
    await viaProxy({ proxy: { address: PROXY, port: 15001 }, url: 'http://reviews:9080/' });
    await done.until(2);
    const s = samples(sidecar);
    assert.equal(find(s, 'istio_requests_total')[0].value, 1);
    assert.equal(find(s, 'istio_request_duration_milliseconds_count')[0].value, 1);
    assert.equal(find(s, 'istio_response_bytes_count')[0].value, 1);
    assert.deepEqual(find(s, 'istio_request_bytes_count'), []);
  });

  test('the default filter chain sends peer metadata upstream and records the request', async () => {
    const at = node(DEFAULT_PROXY, 'ratings-v1-0', 'ratings-v1', { app: 'ratings', version: 'v1' });
    await apply(plain, at);
    const res = await viaProxy({ proxy: { address: DEFAULT_PROXY, port: 15001 }, url: 'http://reviews:9080/' });
    assert.equal(res.status, 200);
    // No server sidecar here: the app sees what a server sidecar would read (and remove).
    const sent = res.echo!.headers['x-envoy-peer-metadata'] as string;
    assert.equal(decodePeerMetadata(sent)?.workload, 'ratings-v1');
    assert.equal(res.echo!.headers['x-envoy-peer-metadata-id'], `sidecar~${DEFAULT_PROXY}~ratings-v1-0.bookinfo~bookinfo.svc.cluster.local`);
    // The stream completes when the proxy's response closes, a turn after the client read it.
    while (find(samples(plain), 'istio_requests_total').length === 0) await new Promise((r) => setImmediate(r));
    assert.deepEqual(find(samples(plain), 'istio_requests_total').map((x) => [x.labels.source_workload, x.labels.destination_workload, x.value]), [['ratings-v1', 'reviews-v1', 1]]);
  });
});
