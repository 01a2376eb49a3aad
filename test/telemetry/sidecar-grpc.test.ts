import assert from 'node:assert/strict';
import { connect, createServer, type ClientHttp2Session, type Http2Server, type Http2Session } from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import type { ProxySnapshot } from '../../src/api/snapshot.js';
import { Sidecar } from '../../src/proxy/sidecar.js';
import { prometheusText } from '../../src/telemetry/sidecar/exposition.js';
import { telemetryOf } from '../../src/telemetry/sidecar/sidecar-telemetry.js';
import { completions, find, meshEndpoint, node, parseExposition, telemetryChain } from './sidecar-fixture.js';

// gRPC through a real sidecar (h2c downstream and upstream): Istio reports request_protocol
// "grpc" and the grpc-status the client got, from the trailers of a proxied response or from the
// headers of a local reply (HTTP 200 with grpc-status 14 for UH, as Envoy answers gRPC).

const NET = '127.10.143';
const PROXY = `${NET}.1`;
const UPSTREAM = `${NET}.10`;
const GRPC = 'outbound|9090||grpc.bookinfo.svc.cluster.local';
const DOWN = 'outbound|9090||down.bookinfo.svc.cluster.local';

const self = node(PROXY, 'frontend-v1-0', 'frontend-v1', { app: 'frontend', version: 'v1' });
const backend = node(UPSTREAM, 'grpc-v1-0', 'grpc-v1', { app: 'grpc', version: 'v1' });

function snapshot(): ProxySnapshot {
  const vh = (name: string, cluster: string) => ({ name, domains: [`${name}:9090`], routes: [{ name: 'default', match: [], action: { kind: 'route' as const, destinations: [{ cluster, weight: 100 }], retries: { attempts: 0 } } }] });
  const cluster = (name: string, host: string) => ({ name, direction: 'outbound' as const, service: host, port: 9090, protocol: 'http2' as const, lbPolicy: 'ROUND_ROBIN' as const });
  return {
    version: '1',
    node: self,
    listeners: [{ name: 'outbound_http_15001', direction: 'outbound', address: PROXY, port: 15001, protocol: 'http', routeConfigName: 'outbound_http', acceptsHttp2: true }],
    routes: [{ name: 'outbound_http', virtualHosts: [vh('grpc', GRPC), vh('down', DOWN)] }],
    clusters: [cluster(GRPC, 'grpc.bookinfo.svc.cluster.local'), cluster(DOWN, 'down.bookinfo.svc.cluster.local')],
    endpoints: [
      { clusterName: GRPC, endpoints: [meshEndpoint(UPSTREAM, 9090, backend)] },
      { clusterName: DOWN, endpoints: [{ ...meshEndpoint(UPSTREAM, 9090, backend), healthy: false }] },
    ],
  };
}

/** A gRPC-shaped h2c server: every call answers with trailers `grpc-status: 5` (NOT_FOUND). */
async function grpcServer(sessions: Set<Http2Session>): Promise<Http2Server> {
  const server = createServer();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream) => {
    stream.on('data', () => undefined);
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '5', 'grpc-message': 'not found' }));
      stream.end(Buffer.alloc(5));
    });
  });
  await new Promise<void>((resolve) => server.listen(9090, UPSTREAM, resolve));
  return server;
}

function call(session: ClientHttp2Session, authority: string): Promise<{ status: number; grpcStatus: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'POST', ':path': '/bookinfo.Grpc/Get', ':authority': authority, 'content-type': 'application/grpc', te: 'trailers' });
    let status = 0;
    let grpcStatus: string | undefined;
    req.on('response', (h) => {
      status = Number(h[':status']);
      if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']);
    });
    req.on('trailers', (t) => (grpcStatus = String(t['grpc-status'])));
    req.on('data', () => undefined);
    req.on('end', () => resolve({ status, grpcStatus }));
    req.on('error', reject);
    req.end(Buffer.alloc(5));
  });
}

describe('sidecar metrics: gRPC', { timeout: 60_000 }, () => {
  const done = completions();
  const sidecar = new Sidecar({ httpFilters: telemetryChain(done.factory) });
  const sessions = new Set<Http2Session>();
  let server: Http2Server;
  let client: ClientHttp2Session;

  before(async () => {
    server = await grpcServer(sessions);
    assert.deepEqual(sidecar.applySnapshot(snapshot()), { ok: true });
    await sidecar.settled();
    client = connect(`http://${PROXY}:15001`);
  });

  after(async () => {
    client.close();
    await sidecar.stop(0);
    for (const s of sessions) s.destroy();
    await new Promise((r) => server.close(r));
  });

  test('a proxied call reports request_protocol grpc and the grpc-status of its trailers', async () => {
    assert.deepEqual(await call(client, 'grpc:9090'), { status: 200, grpcStatus: '5' });
    await done.until(1);
    const s = find(parseExposition(prometheusText(telemetryOf(sidecar).metrics)), 'istio_requests_total', { destination_service: 'grpc.bookinfo.svc.cluster.local' });
    assert.deepEqual(s.map((x) => [x.labels.request_protocol, x.labels.response_code, x.labels.grpc_response_status, x.labels.response_flags, x.labels.destination_workload, x.value]), [['grpc', '200', '5', '-', 'grpc-v1', 1]]);
  });

  test('a local reply to a gRPC call (UH) reports HTTP 200 with grpc-status 14, as Envoy answers it', async () => {
    assert.deepEqual(await call(client, 'down:9090'), { status: 200, grpcStatus: '14' });
    await done.until(2);
    const s = find(parseExposition(prometheusText(telemetryOf(sidecar).metrics)), 'istio_requests_total', { destination_service: 'down.bookinfo.svc.cluster.local' });
    assert.deepEqual(s.map((x) => [x.labels.request_protocol, x.labels.response_code, x.labels.grpc_response_status, x.labels.response_flags, x.value]), [['grpc', '200', '14', 'UH', 1]]);
  });

  test('over HTTP/1.1 (a gRPC-shaped call, grpc-status in the headers) the status is reported too', async () => {
    // The local mesh's synthetic applications call gRPC ports this way.
    const res = await request(`http://${PROXY}:15001/bookinfo.Grpc/Get`, { method: 'POST', headers: { host: 'down:9090', 'content-type': 'application/grpc' }, body: Buffer.alloc(5) });
    await res.body.dump();
    assert.deepEqual([res.statusCode, res.headers['grpc-status']], [200, '14']);
    await done.until(3);
    const s = find(parseExposition(prometheusText(telemetryOf(sidecar).metrics)), 'istio_requests_total', { destination_service: 'down.bookinfo.svc.cluster.local' });
    assert.deepEqual(s.map((x) => [x.labels.request_protocol, x.labels.response_code, x.labels.grpc_response_status, x.labels.response_flags, x.value]), [['grpc', '200', '14', 'UH', 2]]);
  });
});
