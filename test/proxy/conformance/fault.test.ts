import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { seededRandom } from '../../../src/util/seeded-random.js';
import { assertLocalReply, assertProxied, PORT, useSidecar, type Sent } from './fixture.js';
import { h2Exchange, rawGet } from './peers.js';
import { row, table } from './table.js';

// VirtualService `fault` (Envoy's HTTP fault filter as istiod configures it): `delay` holds the
// request for `fixedDelay` before it goes on (DI), `abort` answers locally (FI, body "fault filter
// abort"); each applies to its `percentage` of requests, drawn independently; the router's retries
// and timeout do not apply to what the fault filter did. Every route sends to faulty upstream `a`.

const NET = '127.10.163';
const ABORT = 'fault filter abort';
const route = (prefix: string, extra: object) => ({ match: [{ uri: { prefix } }], route: [{ destination: { host: 'svc' } }], ...extra });
const pct = (value: number) => ({ percentage: { value } });

table('VirtualService fault', () => {
  const fx = useSidecar({
    net: NET,
    upstreams: ['a'],
    services: {
      svc: {
        endpoints: ['a'],
        http: [
          route('/abort-all', { fault: { abort: { httpStatus: 503, ...pct(100) } } }),
          route('/abort-none', { fault: { abort: { httpStatus: 418, ...pct(0) } } }),
          route('/abort-half', { fault: { abort: { httpStatus: 503, ...pct(50) } } }),
          route('/abort-unset', { fault: { abort: { httpStatus: 429 } } }),
          route('/abort-retried', { fault: { abort: { httpStatus: 503, ...pct(100) } }, retries: { attempts: 3, retryOn: '5xx' } }),
          route('/delay-all', { fault: { delay: { fixedDelay: '5s', ...pct(100) } } }),
          route('/delay-unset', { fault: { delay: { fixedDelay: '100ms' } } }),
          route('/delay-percent', { fault: { delay: { fixedDelay: '100ms', percent: 100 } } }),
          route('/delay-none', { fault: { delay: { fixedDelay: '100ms', ...pct(0) } } }),
          route('/delay-half', { fault: { delay: { fixedDelay: '100ms', ...pct(50) } } }),
          route('/delay-timed', { fault: { delay: { fixedDelay: '5s', ...pct(100) } }, timeout: '1s' }),
          route('/both', { fault: { delay: { fixedDelay: '100ms', ...pct(100) }, abort: { httpStatus: 500, ...pct(100) } } }),
          route('/independent', { fault: { delay: { fixedDelay: '100ms', ...pct(50) }, abort: { httpStatus: 503, ...pct(50) } } }),
          route('/', {}),
        ],
      },
    },
  });
  const { clock } = fx;
  const send = (path: string, headers: Record<string, string> = {}) => fx.send('svc', path, { headers });
  const expectAbort = (sent: Sent, status: number, flag = 'FI') => {
    assertLocalReply(sent, { status, flag, details: 'fault_filter_abort', body: ABORT });
    assert.equal(sent.hits.a, 0, 'the upstream never sees an aborted request');
  };
  /** A client that leaves while its request is held by the 5 s delay: how the stream ended. */
  const leaveDuringDelay = async (path: string) => {
    fx.armed.skipAll();
    const call = rawGet(fx.proxy, `http://svc:${PORT}${path}`);
    assert.equal(await fx.armed.next(), 5000);
    call.cancel();
    return fx.completion(path);
  };
  /** 5 s delay, then the 1 s route timeout fires on an upstream that holds the request. */
  const delayThenTimeout = async () => {
    fx.armed.skipAll();
    const call = fx.request('svc', '/delay-timed', { headers: { 'x-upstream-delay-ms': '60000' } });
    assert.equal(await fx.armed.next(), 5000, 'the delay');
    clock.advance(5000);
    assert.equal(await fx.armed.next(), 1000, 'the route timer');
    assert.equal(await fx.armed.next(), 60000, 'the upstream holds the request');
    clock.advance(1000);
    return fx.outcome(call);
  };

  row({ id: 'FA-01', field: 'VirtualService.http.fault.abort.httpStatus', rule: 'Envoy fault filter: abort answers locally with httpStatus, body `fault filter abort`, flag FI, details fault_filter_abort' }, async () => {
    const aborts = fx.sidecar.stats.get('fault.aborts_injected');
    const flagged = fx.sidecar.stats.get('http.response_flags.FI');
    expectAbort(await send('/abort-all'), 503);
    assert.equal(fx.sidecar.stats.get('fault.aborts_injected'), aborts + 1);
    assert.equal(fx.sidecar.stats.get('http.response_flags.FI'), flagged + 1, 'counted under its response flag');
  });

  row({ id: 'FA-02', field: 'VirtualService.http.fault.abort.percentage', rule: 'Envoy fault filter: abort at 0% never aborts' }, async () => {
    for (let i = 0; i < 20; i++) {
      const sent = await send('/abort-none');
      assertProxied(sent, { status: 200, upstream: 'a' });
      assert.equal(sent.hits.a, 1);
    }
  });

  row({ id: 'FA-03', field: 'VirtualService.http.fault.abort.percentage', rule: 'Envoy fault filter: abort at 50% aborts exactly the requests whose draw falls below 50% (one draw each)' }, async () => {
    const N = 40;
    fx.seed(2024);
    const replay = seededRandom(2024);
    const expected = Array.from({ length: N }, () => replay() * 100 < 50);
    const got: boolean[] = [];
    for (let i = 0; i < N; i++) {
      const sent = await send('/abort-half');
      got.push(sent.res.status === 503);
      if (sent.res.status === 503) expectAbort(sent, 503);
      else assertProxied(sent, { status: 200, upstream: 'a' });
    }
    assert.deepEqual(got, expected);
    assert.ok(got.includes(true) && got.includes(false), 'the seed gives a mix');
    assert.equal(fx.draws, N, 'one draw per request, nothing else drew');
  });

  row(
    {
      id: 'FA-04',
      field: 'VirtualService.http.fault.abort.percentage',
      rule: 'istiod + Envoy: an abort without percentage aborts nothing (percentage unset = 0%; istio/istio#36303, the API docs now say so)',
    },
    async () => {
      for (let i = 0; i < 5; i++) assertProxied(await send('/abort-unset'), { status: 200, upstream: 'a' });
    },
  );

  row({ id: 'FA-05', field: 'VirtualService.http.fault.abort.httpStatus', rule: 'Envoy local reply: an HTTP abort of a gRPC request is HTTP 200 with grpc-status mapped from the status (503: 14 UNAVAILABLE)' }, async () => {
    const sent = await send('/abort-all/grpc.Svc/Call', { 'content-type': 'application/grpc' });
    assert.equal(sent.res.status, 200);
    assert.equal(sent.res.headers['grpc-status'], '14');
    assert.equal(decodeURIComponent(String(sent.res.headers['grpc-message'])), ABORT);
    assert.equal(sent.res.flag, 'FI');
    assert.deepEqual([sent.done.status, sent.done.flag, sent.done.details], [503, 'FI', 'fault_filter_abort']);
  });

  row({ id: 'FA-06', field: 'VirtualService.http.fault.abort', rule: 'Istio: no retries on an injected abort: a 503 abort on a route retrying 5xx is answered once, FI without URX' }, async () => {
    const sent = await send('/abort-retried');
    expectAbort(sent, 503);
    assert.deepEqual(sent.armed, [], 'no backoff');
  });

  row({ id: 'FA-07', field: 'VirtualService.http.fault.delay.fixedDelay', rule: 'Envoy fault filter: a delayed request reaches the upstream exactly fixedDelay later; flag DI, details via_upstream' }, async () => {
    const delays = fx.sidecar.stats.get('fault.delays_injected');
    fx.armed.skipAll();
    const before = fx.upstreams.a.requests;
    const call = fx.request('svc', '/delay-all');
    assert.equal(await fx.armed.next(), 5000);
    clock.advance(4999);
    assert.equal(clock.pending, 1, 'still held 1 ms before the delay ends');
    assert.equal(fx.upstreams.a.requests, before);
    clock.advance(1);
    assert.equal(clock.pending, 0);
    const outcome = await fx.outcome(call);
    assertProxied(outcome, { status: 200, flag: 'DI', header: null, upstream: 'a' });
    assert.equal(fx.upstreams.a.requests - before, 1);
    assert.equal(fx.sidecar.stats.get('fault.delays_injected'), delays + 1);
  });

  row(
    {
      id: 'FA-08',
      field: 'VirtualService.http.fault.delay.percentage',
      rule: 'istiod: a delay without percentage uses the deprecated integer percent, 0 when unset: nothing is delayed',
    },
    async () => {
      fx.armed.skipAll();
      const call = fx.request('svc', '/delay-unset');
      const first = await fx.armed.nextOr(call.response);
      if ('ms' in first) clock.advance(first.ms); // delayed: let it finish before failing
      await call.response;
      assert.equal('ms' in first, false, 'no delay timer');
    },
  );

  row({ id: 'FA-09', field: 'VirtualService.http.fault.delay.percent', rule: 'istiod: the deprecated integer percent applies when percentage is absent (percent 100: every request delayed)' }, async () => {
    const sent = await send('/delay-percent');
    assert.deepEqual(sent.armed, [100]);
    assertProxied(sent, { status: 200, flag: 'DI', header: null });
  });

  row({ id: 'FA-10', field: 'VirtualService.http.fault.delay.percentage', rule: 'Envoy fault filter: delay at 0% never delays (no timer)' }, async () => {
    for (let i = 0; i < 10; i++) {
      const sent = await send('/delay-none');
      assert.deepEqual(sent.armed, []);
      assertProxied(sent, { status: 200 });
    }
  });

  row({ id: 'FA-11', field: 'VirtualService.http.fault.delay.percentage', rule: 'Envoy fault filter: delay at 50% delays exactly the requests whose draw falls below 50%' }, async () => {
    const N = 30;
    fx.seed(99);
    const replay = seededRandom(99);
    const expected = Array.from({ length: N }, () => replay() * 100 < 50);
    const got: boolean[] = [];
    for (let i = 0; i < N; i++) {
      const sent = await send('/delay-half');
      got.push(sent.armed.length === 1);
      assertProxied(sent, { status: 200, flag: sent.armed.length ? 'DI' : '-', header: null });
    }
    assert.deepEqual(got, expected);
    assert.equal(fx.draws, N);
  });

  row({ id: 'FA-12', field: 'VirtualService.http.fault', rule: 'Envoy fault filter: delay and abort together: held for the delay, then aborted (DI,FI); the upstream never sees it' }, async () => {
    const sent = await send('/both');
    assert.deepEqual(sent.armed, [100]);
    expectAbort(sent, 500, 'DI,FI');
  });

  row({ id: 'FA-13', field: 'VirtualService.http.fault', rule: 'Istio: delay and abort are independent: each request draws for the delay, then for the abort (all four combinations occur as drawn)' }, async () => {
    const N = 24;
    fx.seed(5);
    const replay = seededRandom(5);
    const expected = Array.from({ length: N }, () => `${replay() * 100 < 50 ? 'DI' : '-'}/${replay() * 100 < 50 ? 'FI' : '-'}`);
    const got: string[] = [];
    for (let i = 0; i < N; i++) {
      const sent = await send('/independent');
      const delayed = sent.armed.length === 1;
      const aborted = sent.res.status === 503 && sent.done.details === 'fault_filter_abort';
      got.push(`${delayed ? 'DI' : '-'}/${aborted ? 'FI' : '-'}`);
      assert.equal(sent.done.flag, delayed && aborted ? 'DI,FI' : delayed ? 'DI' : aborted ? 'FI' : '-');
    }
    assert.deepEqual(got, expected);
    assert.equal(new Set(expected).size, 4, 'the seed gives all four combinations');
  });

  row({ id: 'FA-14', field: 'VirtualService.http.fault.delay', rule: 'Envoy fault filter: a client that leaves during the delay ends the request and its delay timer; nothing is forwarded' }, async () => {
    const before = fx.upstreams.a.requests;
    const d = await leaveDuringDelay('/delay-all/leave');
    assert.ok(d.flag.split(',').includes('DI'), d.flag);
    assert.equal(clock.pending, 0, 'delay timer cleared');
    assert.equal(fx.upstreams.a.requests, before, 'never forwarded');
  });

  row(
    {
      id: 'FA-19',
      field: 'VirtualService.http.fault.delay',
      rule: 'Envoy: a client that leaves during the delay is a downstream disconnect: flags DI,DC, details downstream_remote_disconnect',
    },
    async () => {
      const d = await leaveDuringDelay('/delay-all/gone');
      assert.deepEqual([d.flag, d.details], ['DI,DC', 'downstream_remote_disconnect']);
    },
  );

  row({ id: 'FA-15', field: 'VirtualService.http.fault.delay', rule: 'Istio: no timeout on an injected delay: the route timer starts after the delay (5 s delay, 1 s timeout: 200, DI)' }, async () => {
    fx.armed.skipAll();
    const call = fx.request('svc', '/delay-timed');
    assert.equal(await fx.armed.next(), 5000, 'the delay');
    assert.equal(clock.pending, 1, 'no route timer during the delay');
    clock.advance(5000);
    assert.equal(await fx.armed.next(), 1000, 'the route timer, armed when the request goes upstream');
    assertProxied(await fx.outcome(call), { status: 200, flag: 'DI', header: null, upstream: 'a' });
  });

  row({ id: 'FA-16', field: 'VirtualService.http.fault.delay', rule: 'Envoy: a delay followed by the route timeout keeps both flags (504, DI and UT, details response_timeout)' }, async () => {
    const { res, done } = await delayThenTimeout();
    assert.equal(res.status, 504);
    assert.deepEqual(String(res.flag).split(',').sort(), ['DI', 'UT']);
    assert.deepEqual([done.status, done.flag.split(',').sort(), done.details], [504, ['DI', 'UT'], 'response_timeout']);
  });

  row(
    {
      id: 'FA-17',
      field: 'VirtualService.http.fault.delay',
      rule: 'Envoy writes combined flags in its fixed order (ResponseFlagUtils: UT before DI): `UT,DI`',
    },
    async () => {
      assertLocalReply(await delayThenTimeout(), { status: 504, flag: 'UT,DI', details: 'response_timeout' });
    },
  );
});

table('VirtualService fault over h2c, default filter chain', () => {
  const fx = useSidecar({
    net: '127.10.166',
    upstreams: ['a'],
    defaultFilters: true,
    services: { svc: { endpoints: ['a'], http: [route('/grpc-abort', { fault: { abort: { grpcStatus: 'UNAVAILABLE', ...pct(100) } } })] } },
  });

  row({ id: 'FA-18', field: 'VirtualService.http.fault.abort.grpcStatus', rule: 'Envoy fault filter: a gRPC abort is HTTP 200 with grpc-status 14 and grpc-message, flag FI (with the sidecar\'s default filters)' }, async () => {
    const client = connect(`http://${fx.proxy.address}:${fx.proxy.port}`);
    try {
      const headers = await h2Exchange(client, { ':method': 'POST', ':path': '/grpc-abort/Svc/Call', ':authority': `svc:${PORT}`, 'content-type': 'application/grpc', te: 'trailers' });
      assert.equal(headers[':status'], 200);
      assert.equal(headers['grpc-status'], '14');
      assert.equal(decodeURIComponent(String(headers['grpc-message'])), ABORT);
      assert.equal(headers['x-meshmedic-flags'], 'FI');
      assert.equal(fx.upstreams.a.requests, 0);
    } finally {
      client.destroy();
    }
  });
});
