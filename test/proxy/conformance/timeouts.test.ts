import assert from 'node:assert/strict';
import { assertLocalReply, assertProxied, PORT, useSidecar } from './fixture.js';
import { holdingUpstream, rawGet } from './peers.js';
import { row, setup, table, teardown } from './table.js';

// VirtualService `timeout` (Envoy's route response timeout): armed when the upstream request
// starts, on the injected clock; before the response headers it answers 504 UT, after them it
// resets the client's stream; it covers every retry and is never retried itself. `svc` is an
// upstream that answers only when the row says so; `flaky` is a faulty upstream on the same clock.

const NET = '127.10.160';
const slow = { 'x-upstream-status': '503' };

table('VirtualService timeout', () => {
  const held = holdingUpstream();
  const fx = useSidecar({
    net: NET,
    upstreams: ['a'],
    services: {
      svc: {
        endpoints: [{ address: `${NET}.100`, port: PORT }],
        http: [
          { match: [{ uri: { prefix: '/timed' } }], route: [{ destination: { host: 'svc' } }], timeout: '1s' },
          { match: [{ uri: { prefix: '/zero' } }], route: [{ destination: { host: 'svc' } }], timeout: '0s' },
          { match: [{ uri: { prefix: '/decimal' } }], route: [{ destination: { host: 'svc' } }], timeout: '1.5s' },
          { route: [{ destination: { host: 'svc' } }] },
        ],
      },
      flaky: {
        endpoints: ['a'],
        http: [
          { match: [{ uri: { prefix: '/covers' } }], route: [{ destination: { host: 'flaky' } }], timeout: '1s', retries: { attempts: 5, retryOn: '5xx' } },
          { match: [{ uri: { prefix: '/gw' } }], route: [{ destination: { host: 'flaky' } }], timeout: '1s', retries: { attempts: 3, retryOn: 'gateway-error' } },
        ],
      },
    },
  });
  setup(() => held.listen(`${NET}.100`, PORT));
  teardown(() => held.close());
  const { clock } = fx;

  row({ id: 'TO-01', field: 'VirtualService.http.timeout', rule: 'Envoy router: the timeout is armed when the upstream request starts; an answer before it elapses goes through untouched and clears it' }, async () => {
    fx.armed.skipAll();
    const call = fx.request('svc', '/timed/early');
    const h = await held.next();
    assert.equal(clock.pending, 1);
    assert.equal(await fx.armed.next(), 1000);
    clock.advance(999);
    assert.equal(clock.pending, 1, 'still armed one ms before the limit');
    assert.equal(fx.recorder.done.some((d) => d.path === call.path), false, 'no reply yet');
    assert.equal(h.isClosed(), false, 'the upstream request is still open');
    h.res.writeHead(200, { 'content-type': 'text/plain' });
    h.res.end('in time');
    const outcome = await fx.outcome(call);
    assert.equal(outcome.res.body, 'in time');
    assertProxied(outcome, { status: 200 });
    assert.equal(clock.pending, 0, 'timer cleared on completion');
  });

  row({ id: 'TO-02', field: 'VirtualService.http.timeout', rule: 'Envoy router: at the timeout, before the response headers: 504 `upstream request timeout`, flag UT, details response_timeout, the upstream request aborted' }, async () => {
    const timeouts = fx.sidecar.stats.get('upstream.rq_timeout');
    const flagged = fx.sidecar.stats.get('http.response_flags.UT');
    const call = fx.request('svc', '/timed/slow');
    const h = await held.next();
    clock.advance(1000);
    assertLocalReply(await fx.outcome(call), { status: 504, flag: 'UT', details: 'response_timeout', body: 'upstream request timeout' });
    await h.closed; // the upstream sees its request's socket close
    assert.equal(clock.pending, 0);
    assert.equal(fx.sidecar.stats.get('upstream.rq_timeout'), timeouts + 1, 'counted as upstream_rq_timeout');
    assert.equal(fx.sidecar.stats.get('http.response_flags.UT'), flagged + 1, 'counted under its response flag');
  });

  row({ id: 'TO-03', field: 'VirtualService.http.timeout', rule: 'Envoy router: the timeout covers the whole response: after the headers went out, the client stream is reset (truncated, UT)' }, async () => {
    const path = '/timed/stream';
    const call = rawGet(fx.proxy, `http://svc:${PORT}${path}`);
    const h = await held.next();
    h.res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '10' });
    h.res.write('hello');
    assert.equal((await call.headers).statusCode, 200, 'the headers reached the client');
    assert.equal(clock.pending, 1, 'still armed while the body streams');
    clock.advance(1000);
    const end = await call.end;
    assert.equal(end.complete, false, 'truncated response');
    assert.ok(end.body.length < 10);
    await h.closed;
    const d = await fx.completion(path);
    assert.deepEqual([d.status, d.flag, d.details], [200, 'UT', 'response_timeout']);
    assert.equal(clock.pending, 0);
  });

  row({ id: 'TO-04', field: 'VirtualService.http.timeout', rule: 'istiod: no timeout (absent, or 0s) is Envoy timeout 0, disabled: no timer at all' }, async () => {
    const before = clock.scheduled.length;
    for (const path of ['/plain/x', '/zero/x']) {
      const call = fx.request('svc', path);
      const h = await held.next();
      assert.equal(clock.pending, 0, `${path}: no pending timer`);
      h.res.writeHead(200, { 'content-type': 'text/plain' });
      h.res.end('ok');
      const res = await call.response;
      assert.deepEqual([res.status, res.body], [200, 'ok']);
    }
    assert.equal(clock.scheduled.length, before, 'no timer was ever scheduled');
  });

  row({ id: 'TO-05', field: 'VirtualService.http.timeout', rule: 'Envoy router: a client that goes away (DC) ends the upstream request and its timer' }, async () => {
    const path = '/timed/leave';
    const call = rawGet(fx.proxy, `http://svc:${PORT}${path}`);
    const h = await held.next();
    assert.equal(clock.pending, 1);
    call.cancel();
    const d = await fx.completion(path);
    assert.equal(d.flag, 'DC');
    assert.equal(d.details, 'downstream_remote_disconnect');
    assert.equal(clock.pending, 0, 'timer cleared on client disconnect');
    await h.closed; // and the upstream request was stopped
  });

  row({ id: 'TO-06', field: 'VirtualService.http.timeout', rule: 'Istio duration syntax: `1.5s` is a 1500 ms route timeout' }, async () => {
    fx.armed.skipAll();
    const call = fx.request('svc', '/decimal');
    const h = await held.next();
    assert.equal(await fx.armed.next(), 1500);
    clock.advance(1499);
    assert.equal(h.isClosed(), false);
    clock.advance(1);
    assert.equal((await call.response).status, 504);
  });

  row({ id: 'TO-07', field: 'VirtualService.http.timeout', rule: 'Envoy router: the route timeout covers all tries: armed once, it ends the second try (504 UT) and no third starts' }, async () => {
    fx.useRandom(() => 0); // backoffs of 0 ms: only the route timer decides
    fx.armed.skipAll();
    const before = fx.upstreams.a.requests;
    const call = fx.request('flaky', '/covers', { headers: { ...slow, 'x-upstream-delay-ms': '600' } });
    assert.equal(await fx.armed.next(), 1000, 'the route timer');
    assert.equal(await fx.armed.next(), 600, 'try 1 held by the upstream');
    clock.advance(600); // try 1 answers 503: retried
    assert.equal(await fx.armed.next(), 0, 'backoff');
    clock.advance(0);
    assert.equal(await fx.armed.next(), 600, 'try 2 held by the upstream');
    clock.advance(400); // t = 1000: the route timer, armed once for both tries
    assertLocalReply(await fx.outcome(call), { status: 504, flag: 'UT', details: 'response_timeout' });
    assert.equal(fx.upstreams.a.requests - before, 2);
    assert.equal(fx.armed.unseen, 0, 'no backoff after the timeout');
  });

  row({ id: 'TO-08', field: 'VirtualService.http.timeout', rule: 'Envoy router: a 504 from the route timeout is not retried, even with gateway-error in retryOn' }, async () => {
    fx.armed.skipAll();
    const before = fx.upstreams.a.requests;
    const call = fx.request('flaky', '/gw', { headers: { 'x-upstream-delay-ms': '60000' } });
    assert.equal(await fx.armed.next(), 1000, 'the route timer');
    assert.equal(await fx.armed.next(), 60000, 'the upstream holds the request');
    clock.advance(1000);
    assertLocalReply(await fx.outcome(call), { status: 504, flag: 'UT', details: 'response_timeout' });
    assert.equal(fx.upstreams.a.requests - before, 1);
    assert.equal(fx.armed.unseen, 0, 'no backoff timer was armed');
  });

  row({ id: 'TO-09', field: 'VirtualService.http.timeout', rule: 'Envoy router: when the route timeout fires during a retry backoff, no retry starts: 504 UT' }, async () => {
    fx.useRandom(() => 0.99); // first backoff 24 ms: still running at the timeout
    fx.armed.skipAll();
    const before = fx.upstreams.a.requests;
    const call = fx.request('flaky', '/covers', { headers: { ...slow, 'x-upstream-delay-ms': '990' } });
    assert.equal(await fx.armed.next(), 1000);
    assert.equal(await fx.armed.next(), 990);
    clock.advance(990); // 503 at t = 990: retried after the backoff
    assert.equal(await fx.armed.next(), 24, 'backoff until t = 1014');
    clock.advance(10); // t = 1000: the route timer fires first
    assertLocalReply(await fx.outcome(call), { status: 504, flag: 'UT', details: 'response_timeout' });
    assert.equal(clock.pending, 0, 'the backoff timer was cleared');
    clock.advance(100);
    assert.equal(fx.upstreams.a.requests - before, 1, 'no second try');
  });
});
