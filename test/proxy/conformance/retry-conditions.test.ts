import assert from 'node:assert/strict';
import { assertLocalReply, assertProxied, PORT, useSidecar } from './fixture.js';
import { refusingH2Upstream } from './peers.js';
import { row, setup, table, teardown } from './table.js';

// Each `retryOn` condition (Envoy's x-envoy-retry-on and x-envoy-retry-grpc-on values, as
// istiod passes them through), with `attempts: 2`: a retried request reaches upstream `a` three
// times and ends with URX; one that is not retried reaches it once. gRPC conditions read the
// grpc-status of a trailers-only answer. `h2` is an h2c upstream that refuses streams.

const NET = '127.10.162';
const GRPC = { 'content-type': 'application/grpc' };
const on = (host: string, retryOn: string) => [{ route: [{ destination: { host } }], retries: { attempts: 2, retryOn } }];
const status = (code: number) => ({ headers: { 'x-upstream-status': String(code) } });
const grpc = (code: number) => ({ headers: { ...GRPC, 'x-upstream-grpc-status': String(code) } });
const reset = { headers: { 'x-upstream-reset': 'before-headers' } };

table('VirtualService retries.retryOn conditions', () => {
  const h2 = refusingH2Upstream();
  const h2Endpoint = { address: `${NET}.100`, port: PORT };
  const fx = useSidecar({
    net: NET,
    upstreams: ['a'],
    services: {
      any5xx: { endpoints: ['a'], http: on('any5xx', '5xx') },
      gateway: { endpoints: ['a'], http: on('gateway', 'gateway-error') },
      resets: { endpoints: ['a'], http: on('resets', 'reset') },
      connect: { endpoints: ['a'], http: on('connect', 'connect-failure') },
      conflict: { endpoints: ['a'], http: on('conflict', 'retriable-4xx') },
      codes: { endpoints: ['a'], http: on('codes', '418,429') },
      nocodes: { endpoints: ['a'], http: on('nocodes', 'retriable-status-codes') },
      cancelled: { endpoints: ['a'], http: on('cancelled', 'cancelled') },
      deadline: { endpoints: ['a'], http: on('deadline', 'deadline-exceeded') },
      internal: { endpoints: ['a'], http: on('internal', 'internal') },
      exhausted: { endpoints: ['a'], http: on('exhausted', 'resource-exhausted') },
      unavailable: { endpoints: ['a'], http: on('unavailable', 'unavailable') },
      dead5xx: { endpoints: ['dead'], http: on('dead5xx', '5xx') },
      deadconnect: { endpoints: ['dead'], http: on('deadconnect', 'connect-failure') },
      refused: { endpoints: [h2Endpoint], protocol: 'http2', http: on('refused', 'refused-stream') },
      refusedother: { endpoints: [h2Endpoint], protocol: 'http2', http: on('refusedother', 'connect-failure') },
      h1refused: { endpoints: ['a'], http: on('h1refused', 'refused-stream') },
    },
  });
  setup(() => h2.listen(h2Endpoint.address, h2Endpoint.port));
  teardown(() => h2.close());

  row({ id: 'RC-01', field: 'VirtualService.http.retries.retryOn', rule: 'Envoy 5xx: any 5xx response is retried (500, 503), then URX' }, async () => {
    for (const code of [500, 503]) {
      const sent = await fx.send('any5xx', '/5xx', status(code));
      assertProxied(sent, { status: code, flag: 'URX' });
      assert.equal(sent.hits.a, 3, `status ${code}`);
    }
  });

  row({ id: 'RC-02', field: 'VirtualService.http.retries.retryOn', rule: 'Envoy 5xx: no response at all is a 5xx too: a reset and a refused connection are retried' }, async () => {
    const resetSent = await fx.send('any5xx', '/5xx-reset', reset);
    assert.equal(resetSent.res.status, 503);
    assert.match(resetSent.done.flag, /,URX$/);
    assert.equal(resetSent.hits.a, 3);
    const refused = await fx.send('dead5xx', '/5xx-refused');
    assertLocalReply(refused, { status: 503, flag: 'UF,URX', details: 'upstream_reset_before_response_started{connection_failure}' });
    assert.equal(refused.armed.length, 2);
  });

  row({ id: 'RC-03', field: 'VirtualService.http.retries.retryOn', rule: 'Envoy gateway-error: 502, 503 and 504 are retried, 500 is not' }, async () => {
    for (const code of [502, 503, 504]) {
      const sent = await fx.send('gateway', '/gw', status(code));
      assertProxied(sent, { status: code, flag: 'URX' });
      assert.equal(sent.hits.a, 3, `status ${code}`);
    }
    const internal = await fx.send('gateway', '/gw', status(500));
    assertProxied(internal, { status: 500 });
    assert.equal(internal.hits.a, 1);
  });

  row({ id: 'RC-04', field: 'VirtualService.http.retries.retryOn', rule: 'Envoy gateway-error: a reset before the response counts as a gateway error and is retried' }, async () => {
    const sent = await fx.send('gateway', '/gw-reset', reset);
    assert.equal(sent.res.status, 503);
    assert.equal(sent.hits.a, 3);
  });

  row({ id: 'RC-05', field: 'VirtualService.http.retries.retryOn', rule: 'Envoy reset: a reset before the response is retried; a 503 response is not' }, async () => {
    const resetSent = await fx.send('resets', '/reset', reset);
    assert.equal(resetSent.res.status, 503);
    assert.match(resetSent.done.flag, /,URX$/);
    assert.equal(resetSent.hits.a, 3);
    const unavailable = await fx.send('resets', '/reset', status(503));
    assertProxied(unavailable, { status: 503 });
    assert.equal(unavailable.hits.a, 1);
  });

  row({ id: 'RC-06', field: 'VirtualService.http.retries.retryOn', rule: 'Envoy connect-failure: a refused connection is retried, then 503 UF,URX' }, async () => {
    const sent = await fx.send('deadconnect', '/cf');
    assertLocalReply(sent, { status: 503, flag: 'UF,URX', details: 'upstream_reset_before_response_started{connection_failure}' });
    assert.equal(sent.armed.length, 2);
  });

  row({ id: 'RC-07', field: 'VirtualService.http.retries.retryOn', rule: 'Envoy connect-failure: a reset after connecting and a 503 response are not retried' }, async () => {
    const resetSent = await fx.send('connect', '/cf', reset);
    assert.equal(resetSent.res.status, 503);
    assert.equal(resetSent.hits.a, 1);
    const unavailable = await fx.send('connect', '/cf', status(503));
    assertProxied(unavailable, { status: 503 });
    assert.equal(unavailable.hits.a, 1);
  });

  row({ id: 'RC-08', field: 'VirtualService.http.retries.retryOn', rule: 'Envoy retriable-4xx: 409 is retried, then URX' }, async () => {
    const sent = await fx.send('conflict', '/4xx', status(409));
    assertProxied(sent, { status: 409, flag: 'URX' });
    assert.equal(sent.hits.a, 3);
  });

  row({ id: 'RC-09', field: 'VirtualService.http.retries.retryOn', rule: 'Envoy retriable-4xx: 409 only: 404 and 429 are not retried' }, async () => {
    for (const code of [404, 429]) {
      const sent = await fx.send('conflict', '/4xx', status(code));
      assertProxied(sent, { status: code });
      assert.equal(sent.hits.a, 1, `status ${code}`);
    }
  });

  row({ id: 'RC-10', field: 'VirtualService.http.retries.retryOn', rule: 'istiod: bare numbers in retryOn are retriable status codes (418, 429 retried; 500 not)' }, async () => {
    for (const code of [418, 429]) {
      const sent = await fx.send('codes', '/codes', status(code));
      assertProxied(sent, { status: code, flag: 'URX' });
      assert.equal(sent.hits.a, 3, `status ${code}`);
    }
    const internal = await fx.send('codes', '/codes', status(500));
    assertProxied(internal, { status: 500 });
    assert.equal(internal.hits.a, 1);
  });

  row({ id: 'RC-11', field: 'VirtualService.http.retries.retryOn', rule: 'istiod: retriable-status-codes without numbers lists no code (the default 503 is replaced): nothing is retried' }, async () => {
    const sent = await fx.send('nocodes', '/nocodes', status(503));
    assertProxied(sent, { status: 503 });
    assert.equal(sent.hits.a, 1);
  });

  const grpcRows: Array<[string, string, string, number]> = [
    ['RC-12', 'cancelled', 'cancelled', 1],
    ['RC-13', 'deadline', 'deadline-exceeded', 4],
    ['RC-14', 'internal', 'internal', 13],
    ['RC-15', 'exhausted', 'resource-exhausted', 8],
    ['RC-16', 'unavailable', 'unavailable', 14],
  ];
  for (const [id, service, condition, code] of grpcRows) {
    row({ id, field: 'VirtualService.http.retries.retryOn', rule: `Envoy gRPC ${condition}: a response with grpc-status ${code} is retried, then URX` }, async () => {
      const sent = await fx.send(service, `/grpc.Svc/${service}`, grpc(code));
      assertProxied(sent, { status: 200, flag: 'URX' });
      assert.equal(sent.res.headers['grpc-status'], String(code));
      assert.equal(sent.hits.a, 3);
    });
  }

  row({ id: 'RC-17', field: 'VirtualService.http.retries.retryOn', rule: 'Envoy gRPC conditions: a grpc-status not listed (8 under `unavailable`) and grpc-status 0 are not retried' }, async () => {
    for (const code of [8, 0]) {
      const sent = await fx.send('unavailable', '/grpc.Svc/Other', grpc(code));
      assertProxied(sent, { status: 200 });
      assert.equal(sent.hits.a, 1, `grpc-status ${code}`);
    }
  });

  row(
    {
      id: 'RC-18',
      field: 'VirtualService.http.retries.retryOn',
      rule: 'Envoy gRPC conditions read grpc-status in any response headers, whatever the request content-type',
    },
    async () => {
      const sent = await fx.send('unavailable', '/plain-http', { headers: { 'x-upstream-grpc-status': '14' } });
      assert.equal(sent.hits.a, 3);
    },
  );

  row({ id: 'RC-19', field: 'VirtualService.http.retries.retryOn', rule: 'Envoy refused-stream: an h2 stream reset with REFUSED_STREAM is retried' }, async () => {
    h2.refuseNext(1);
    const before = h2.streams;
    const sent = await fx.send('refused', '/refused');
    assertProxied(sent, { status: 200 });
    assert.equal(sent.res.body, 'accepted');
    assert.equal(h2.streams - before, 2, 'refused once, accepted on the retry');
  });

  row({ id: 'RC-20', field: 'VirtualService.http.retries.retryOn', rule: 'Envoy: REFUSED_STREAM is not retried when refused-stream (or 5xx, gateway-error, reset) is not in retryOn' }, async () => {
    h2.refuseNext(1);
    const before = h2.streams;
    const sent = await fx.send('refusedother', '/refused');
    assert.equal(sent.res.status, 503);
    assert.equal(h2.streams - before, 1);
  });

  row({ id: 'RC-21', field: 'VirtualService.http.retries.retryOn', rule: 'Envoy refused-stream: an HTTP/1.1 connection reset is not a refused stream and is not retried' }, async () => {
    const sent = await fx.send('h1refused', '/h1-reset', reset);
    assert.equal(sent.res.status, 503);
    assert.equal(sent.hits.a, 1);
  });

  row({ id: 'RC-22', field: 'VirtualService.http.retries.retryOn', rule: 'Envoy router: a stream refused before the response is reported as UR, details upstream_reset_before_response_started{remote_refused_stream_reset}' }, async () => {
    h2.refuseNext(1);
    const sent = await fx.send('refusedother', '/refused-flag');
    assertLocalReply(sent, { status: 503, flag: 'UR', details: 'upstream_reset_before_response_started{remote_refused_stream_reset}' });
  });

  row({ id: 'RC-23', field: 'VirtualService.http.retries.retryOn', rule: 'Envoy codec client: an HTTP/1.1 upstream that resets its connection before the response is a connection termination: 503 UC, details upstream_reset_before_response_started{connection_termination}' }, async () => {
    const sent = await fx.send('h1refused', '/h1-reset-flag', reset);
    assertLocalReply(sent, { status: 503, flag: 'UC', details: 'upstream_reset_before_response_started{connection_termination}' });
  });
});
