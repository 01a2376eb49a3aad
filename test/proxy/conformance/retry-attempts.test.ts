import assert from 'node:assert/strict';
import { assertLocalReply, assertProxied, PORT, useSidecar } from './fixture.js';
import { holdingUpstream, rawGet } from './peers.js';
import { row, setup, table, teardown } from './table.js';

// How tries unfold: perTryTimeout, where a retry goes (Envoy's previous_hosts predicate, which
// istiod leaves out on consistent-hash routes), the full-jitter backoff between tries (checked on
// the timers the sidecar arms on the ManualClock), the last try's answer with URX, and the
// request kinds Envoy retries. `a` and `b` are faulty upstreams; `held` answers when told.

const NET = '127.10.165';
const unavailable = { headers: { 'x-upstream-status': '503' } };
const to = (host: string, retries?: unknown) => [{ route: [{ destination: { host } }], ...(retries !== undefined && { retries }) }];
/** Envoy's backoff windows for retries 1..5 (25 ms base, 250 ms cap): min(25 x 2^(n-1), 250) (JitteredExponentialBackOffStrategy; RA-14). */
const CEILINGS = [25, 50, 100, 200, 250];

table('VirtualService retries: tries, hosts and backoff', () => {
  const held = holdingUpstream();
  const fx = useSidecar({
    net: NET,
    upstreams: ['a', 'b'],
    services: {
      pertry: { endpoints: ['a'], http: to('pertry', { attempts: 1, perTryTimeout: '100ms', retryOn: '5xx' }) },
      pertryconnect: { endpoints: ['a'], http: to('pertryconnect', { attempts: 2, perTryTimeout: '100ms', retryOn: 'connect-failure' }) },
      pertryreset: { endpoints: ['a'], http: to('pertryreset', { attempts: 1, perTryTimeout: '100ms', retryOn: 'reset' }) },
      pertryheaders: { endpoints: [{ address: `${NET}.100`, port: PORT }], http: to('pertryheaders', { attempts: 1, perTryTimeout: '100ms', retryOn: '5xx' }) },
      spread: { endpoints: ['a', 'b'], lbPolicy: 'RANDOM', http: to('spread', { attempts: 1, retryOn: '5xx' }) },
      sticky: { endpoints: ['a', 'b'], lbPolicy: 'RING_HASH', hashPolicy: { header: 'x-user' } },
      samehost: { endpoints: ['a', 'b'], lbPolicy: 'RANDOM', http: to('samehost', { attempts: 1, retryOn: '5xx', retryIgnorePreviousHosts: false }) },
      backoff: { endpoints: ['a'], http: to('backoff', { attempts: 5, retryOn: '5xx' }) },
      slower: { endpoints: ['a'], http: to('slower', { attempts: 3, retryOn: '5xx', backoff: '100ms' }) },
      svc: { endpoints: ['a'] },
    },
  });
  setup(() => held.listen(`${NET}.100`, PORT));
  teardown(() => held.close());
  const { clock } = fx;

  row({ id: 'RA-01', field: 'VirtualService.http.retries.perTryTimeout', rule: 'Envoy router: a try without response headers within perTryTimeout is retried (5xx), then 504 UT,URX upstream_per_try_timeout' }, async () => {
    fx.useRandom(() => 0.5);
    fx.armed.skipAll();
    const before = fx.upstreams.a.requests;
    const call = fx.request('pertry', '/held', { headers: { 'x-upstream-delay-ms': '60000' } });
    for (let attempt = 1; attempt <= 2; attempt++) {
      assert.equal(await fx.armed.next(), 100, `try ${attempt}: the per-try timer`);
      assert.equal(await fx.armed.next(), 60000, `try ${attempt}: the upstream holds the request`);
      clock.advance(100);
      if (attempt === 1) {
        const backoff = await fx.armed.next();
        assert.equal(backoff, 12, 'first backoff: 0.5 x 25 ms');
        clock.advance(backoff);
      }
    }
    assertLocalReply(await fx.outcome(call), { status: 504, flag: 'UT,URX', details: 'upstream_per_try_timeout', body: 'upstream request timeout' });
    assert.equal(fx.upstreams.a.requests - before, 2);
  });

  row({ id: 'RA-02', field: 'VirtualService.http.retries.perTryTimeout', rule: 'Envoy router: a per-try timeout is a local reset: not retried when retryOn has none of 5xx, gateway-error, reset (504 UT)' }, async () => {
    fx.armed.skipAll();
    const before = fx.upstreams.a.requests;
    const call = fx.request('pertryconnect', '/held', { headers: { 'x-upstream-delay-ms': '60000' } });
    assert.equal(await fx.armed.next(), 100, 'the per-try timer');
    assert.equal(await fx.armed.next(), 60000, 'the upstream holds the request');
    clock.advance(100);
    assertLocalReply(await fx.outcome(call), { status: 504, flag: 'UT', details: 'upstream_per_try_timeout' });
    assert.equal(fx.upstreams.a.requests - before, 1);
    assert.equal(fx.armed.unseen, 0, 'no backoff was armed');
  });

  row(
    {
      id: 'RA-03',
      field: 'VirtualService.http.retries.perTryTimeout',
      rule: 'Envoy router: retryOn reset retries a per-try timeout (RetryStateImpl::wouldRetryFromReset: RETRY_ON_RESET takes any reset, the per-try LocalReset included)',
    },
    async () => {
      fx.useRandom(() => 0);
      fx.armed.skipAll();
      const before = fx.upstreams.a.requests;
      const call = fx.request('pertryreset', '/held', { headers: { 'x-upstream-delay-ms': '60000' } });
      assert.equal(await fx.armed.next(), 100, 'the per-try timer');
      assert.equal(await fx.armed.next(), 60000, 'the upstream holds the request');
      clock.advance(100);
      // Retried: a backoff of 0, then try 2 with its own per-try timer; not retried: the 504 now.
      const next = await fx.armed.nextOr(call.response);
      if ('ms' in next && next.ms === 0) {
        clock.advance(0);
        assert.equal(await fx.armed.next(), 100);
        assert.equal(await fx.armed.next(), 60000);
        clock.advance(100);
      }
      assertLocalReply(await fx.outcome(call), { status: 504, flag: 'UT,URX', details: 'upstream_per_try_timeout' });
      assert.equal(fx.upstreams.a.requests - before, 2, 'the per-try timeout was retried');
    },
  );

  row({ id: 'RA-04', field: 'VirtualService.http.retries.perTryTimeout', rule: 'Envoy upstream request: the per-try timeout is ignored once the response started (it ends at the response headers)' }, async () => {
    fx.armed.skipAll();
    const path = '/in-time';
    const call = rawGet(fx.proxy, `http://pertryheaders:${PORT}${path}`);
    const h = await held.next();
    assert.equal(await fx.armed.next(), 100, 'the per-try timer');
    h.res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '4' });
    h.res.write('ok');
    assert.equal((await call.headers).statusCode, 200, 'the response started');
    clock.advance(100); // past the per-try timeout, body still streaming
    h.res.end('..');
    const end = await call.end;
    assert.deepEqual(end, { complete: true, body: 'ok..' });
    const d = await fx.completion(path);
    assert.deepEqual([d.status, d.flag, d.details], [200, '-', 'via_upstream']);
    assert.equal(clock.pending, 0);
  });

  row({ id: 'RA-05', field: 'VirtualService.http.retries', rule: 'istiod previous_hosts predicate: a retry goes to a host not tried yet (RANDOM balancer, 8 requests: each try on a different host)' }, async () => {
    fx.seed(11);
    for (let i = 0; i < 8; i++) {
      const sent = await fx.send('spread', `/spread${i}`, unavailable);
      assertProxied(sent, { status: 503, flag: 'URX' });
      assert.deepEqual([sent.hits.a, sent.hits.b], [1, 1], `request ${i}`);
    }
  });

  row({ id: 'RA-06', field: 'VirtualService.http.retries', rule: 'istiod: no previous_hosts predicate on consistent-hash routes: every try goes to the hashed host' }, async () => {
    for (const user of ['ann', 'bob', 'cyd']) {
      const sent = await fx.send('sticky', `/sticky`, { headers: { ...unavailable.headers, 'x-user': user } });
      assertProxied(sent, { status: 503, flag: 'URX' });
      assert.deepEqual([sent.hits.a + sent.hits.b, Math.max(sent.hits.a, sent.hits.b)], [3, 3], `user ${user}: 3 tries on one host`);
    }
  });

  row(
    {
      id: 'RA-07',
      field: 'VirtualService.http.retries.retryIgnorePreviousHosts',
      rule: 'istiod: retryIgnorePreviousHosts false drops the previous_hosts predicate: a retry may reach the host just tried',
    },
    async () => {
      fx.seed(11);
      let repeated = 0;
      for (let i = 0; i < 16; i++) {
        const sent = await fx.send('samehost', `/same${i}`, unavailable);
        if (sent.hits.a === 2 || sent.hits.b === 2) repeated++;
      }
      assert.ok(repeated > 0, 'some retry reached the host of the first try (RANDOM over two hosts)');
    },
  );

  row({ id: 'RA-08', field: 'VirtualService.http.retries', rule: 'Envoy full-jitter backoff, base 25 ms and cap 250 ms: the first retry waits below 25 ms, no wait reaches 250 ms (armed timers, random near 1)' }, async () => {
    fx.useRandom(() => 0.999999);
    const sent = await fx.send('backoff', '/ceiling', unavailable);
    assertProxied(sent, { status: 503, flag: 'URX' });
    assert.equal(sent.hits.a, 6);
    assert.equal(sent.armed.length, 5);
    assert.equal(sent.armed[0], 24, 'first window: [0, 25)');
    assert.equal(Math.max(...sent.armed), 249, 'capped below 250');
  });

  row(
    {
      id: 'RA-14',
      field: 'VirtualService.http.retries',
      rule: 'Envoy JitteredExponentialBackOffStrategy (since envoy#10417, 2020): retry n waits in [0, 25 x 2^(n-1)) capped at 250: 24, 49, 99, 199, 249 at random near 1',
    },
    async () => {
      fx.useRandom(() => 0.999999);
      const sent = await fx.send('backoff', '/windows', unavailable);
      assert.deepEqual(sent.armed, [24, 49, 99, 199, 249]);
    },
  );

  row({ id: 'RA-09', field: 'VirtualService.http.retries', rule: 'Envoy full-jitter backoff: the wait is drawn from [0, ceiling): a draw of 0 retries at once' }, async () => {
    fx.useRandom(() => 0);
    const sent = await fx.send('backoff', '/floor', unavailable);
    assert.equal(sent.hits.a, 6);
    assert.deepEqual(sent.armed, [0, 0, 0, 0, 0]);
  });

  row({ id: 'RA-10', field: 'VirtualService.http.retries', rule: 'Envoy full-jitter backoff: each wait is a fresh draw within [0, min(25 x 2^(n-1), 250)) (seeded random source)' }, async () => {
    fx.seed(7);
    const sent = await fx.send('backoff', '/jitter', unavailable);
    assert.equal(sent.armed.length, 5);
    sent.armed.forEach((ms, i) => assert.ok(Number.isInteger(ms) && ms >= 0 && ms < CEILINGS[i], `retry ${i + 1}: ${ms} ms not in [0, ${CEILINGS[i]})`));
    assert.ok(new Set(sent.armed).size > 1 && sent.armed.some((ms) => ms > 0), `fresh draws: ${sent.armed.join(',')}`);
    assert.equal(fx.draws, 5, 'one draw per backoff, nothing else drew');
  });

  row(
    {
      id: 'RA-11',
      field: 'VirtualService.http.retries.backoff',
      rule: 'istiod: retries.backoff is the backoff base interval (Envoy cap: 10 x base): retry n waits below min(100 ms x 2^(n-1), 1 s)',
    },
    async () => {
      fx.useRandom(() => 0.999999);
      const sent = await fx.send('slower', '/slower', unavailable);
      assert.deepEqual(sent.armed, [99, 199, 399]);
    },
  );

  row({ id: 'RA-12', field: 'VirtualService.http.retries', rule: 'Envoy router: a retried response is dropped; the client gets the last try\'s own response, with URX' }, async () => {
    const sent = await fx.send('backoff', '/last', unavailable);
    const last = fx.upstreams.a.requests;
    assertProxied(sent, { status: 503, flag: 'URX' });
    assert.equal(sent.res.headers['x-upstream-request'], String(last), 'the headers of the last try');
    assert.equal(JSON.parse(sent.res.body).request, last, 'and its body');
  });

  row(
    {
      id: 'RA-13',
      field: 'VirtualService.http.retries',
      rule: 'Envoy router: a request with a body is buffered (up to the buffer limit) and retried like any other',
    },
    async () => {
      const sent = await fx.send('svc', '/post', { method: 'POST', body: 'payload', headers: unavailable.headers });
      assertProxied(sent, { status: 503, flag: 'URX' });
      assert.equal(sent.hits.a, 3);
    },
  );
});
