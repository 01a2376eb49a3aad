import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TelemetrySettings } from '../../src/api/snapshot.js';
import { Sidecar } from '../../src/proxy/sidecar.js';
import { telemetryOf } from '../../src/telemetry/sidecar/sidecar-telemetry.js';
import { ManualClock } from '../support/manual-clock.js';
import { startUpstream, viaProxy, type Upstream } from '../proxy/helpers.js';
import { clientSnapshot, completions, meshEndpoint, node, telemetryChain } from './sidecar-fixture.js';

// The access log of a real sidecar, switched by its snapshot's telemetry settings: Istio's
// default text format, the JSON format with the same fields, local replies with their flags,
// and per-direction logging (Telemetry match.mode).

const NET = '127.10.142';
const PROXY = `${NET}.1`;
const APP = { address: `${NET}.20`, port: 8080 };
const START = Date.UTC(2023, 10, 14, 22, 13, 20);

const self = node(PROXY, 'productpage-v1-0', 'productpage-v1', { app: 'productpage', version: 'v1' });
const reviews = node(APP.address, 'reviews-v1-0', 'reviews-v1', { app: 'reviews', version: 'v1' });
const proxy = { address: PROXY, port: 15001 };

describe('sidecar access log', { timeout: 60_000 }, () => {
  const clock = new ManualClock(START);
  const done = completions();
  const sidecar = new Sidecar({ clock, httpFilters: telemetryChain(done.factory) });
  const lines: string[] = [];
  let app: Upstream;
  let version = 0;

  const apply = async (telemetry: TelemetrySettings) => {
    const snap = clientSnapshot(String(++version), self, [{ name: 'reviews', endpoints: [meshEndpoint(APP.address, APP.port, reviews)] }], telemetry);
    assert.deepEqual(sidecar.applySnapshot(snap), { ok: true });
    await sidecar.settled();
  };
  /** The last `n` lines written (the queue flushed now rather than on the next turn). */
  const logged = async (n: number): Promise<string[]> => {
    telemetryOf(sidecar).accessLog.flush();
    return lines.splice(0).join('').split('\n').filter(Boolean).slice(-n);
  };

  before(async () => {
    app = await startUpstream('reviews-app', APP);
    telemetryOf(sidecar).accessLog.setSink((chunk) => lines.push(chunk));
  });

  after(async () => {
    await sidecar.stop(0);
    await app.close();
  });

  test("text: Istio's default format, one line per request, local replies with their flag", async () => {
    await apply({ accessLog: { enabled: true, format: 'text' } });
    const ok = await viaProxy({ proxy, url: 'http://reviews:9080/reviews/0?x=1', headers: { 'user-agent': 'test-agent', 'x-request-id': 'req-1' } });
    const nr = await viaProxy({ proxy, url: 'http://nowhere:9080/missing' });
    await done.until(2);
    const [first, second] = await logged(2);
    const expected =
      `[2023-11-14T22:13:20.000Z] "GET /reviews/0?x=1 HTTP/1.1" 200 - via_upstream - "-" 0 ${Buffer.byteLength(ok.body)} 0 - ` +
      `"-" "test-agent" "req-1" "reviews:9080" "${APP.address}:${APP.port}" outbound|9080||reviews.bookinfo.svc.cluster.local - ${PROXY}:15001 `;
    assert.ok(first.startsWith(expected), `${first}\n  expected to start with\n${expected}`);
    assert.match(first.slice(expected.length), /^[\d.]+:\d+ - default$/);
    assert.equal(nr.status, 404);
    assert.match(second, /^\[2023-11-14T22:13:20\.000Z\] "GET \/missing HTTP\/1\.1" 404 NR route_not_found - "-" 0 0 0 - "-" "-" "-" "nowhere:9080" "-" - - /);
  });

  test('JSON: the same fields by Istio\'s names, numbers as numbers, missing values null', async () => {
    await apply({ accessLog: { enabled: true, format: 'json' } });
    const sent = viaProxy({ proxy, url: 'http://reviews:9080/hang/write', method: 'POST', body: 'abc', headers: { 'content-type': 'text/plain', 'x-request-id': 'req-2' } });
    while (app.held.length === 0) await app.next();
    clock.advance(42);
    app.held.shift()!();
    const res = await sent;
    await done.until(3);
    const [line] = await logged(1);
    const entry = JSON.parse(line) as Record<string, unknown>;
    assert.deepEqual(
      { ...entry, downstream_remote_address: typeof entry.downstream_remote_address },
      {
        start_time: '2023-11-14T22:13:20.000Z', method: 'POST', path: '/hang/write', protocol: 'HTTP/1.1', response_code: 200, response_flags: '-',
        response_code_details: 'via_upstream', connection_termination_details: null, upstream_transport_failure_reason: null,
        bytes_received: 3, bytes_sent: Buffer.byteLength(res.body), duration: 42, upstream_service_time: null, x_forwarded_for: null, user_agent: null,
        request_id: 'req-2', authority: 'reviews:9080', upstream_host: `${APP.address}:${APP.port}`, upstream_cluster: 'outbound|9080||reviews.bookinfo.svc.cluster.local',
        upstream_local_address: null, downstream_local_address: `${PROXY}:15001`, downstream_remote_address: 'string', requested_server_name: null, route_name: 'default',
      },
    );
  });

  test('logging limited to inbound listeners (match.mode SERVER) writes nothing for outbound requests; disabled writes nothing', async () => {
    for (const accessLog of [{ enabled: true, format: 'text' as const, directions: ['inbound' as const] }, { enabled: false, format: 'text' as const }]) {
      await apply({ accessLog });
      const before = done.count();
      const res = await viaProxy({ proxy, url: 'http://reviews:9080/quiet' });
      assert.equal(res.status, 200);
      await done.until(before + 1);
      telemetryOf(sidecar).accessLog.flush();
      assert.deepEqual(lines.splice(0), []);
    }
  });
});
