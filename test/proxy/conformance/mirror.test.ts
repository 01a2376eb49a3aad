import assert from 'node:assert/strict';
import { seededRandom } from '../../../src/util/seeded-random.js';
import { assertProxied, until, useSidecar } from './fixture.js';
import { row, table } from './table.js';

// VirtualService `mirror` + `mirrorPercentage` (Envoy's request_mirror_policies as istiod writes
// them): a fire-and-forget copy to the mirror's cluster with `-shadow` appended to the host,
// decided once per request; its answer, failure or slowness never reaches the client. `main`
// answers the requests, `shadow` and `slow` receive the copies; `dead` refuses them.

const NET = '127.10.164';
const route = (prefix: string, extra: object) => ({ match: [{ uri: { prefix } }], route: [{ destination: { host: 'svc' } }], ...extra });

table('VirtualService mirror', () => {
  const fx = useSidecar({
    net: NET,
    upstreams: ['main', 'shadow', 'slow'],
    services: {
      svc: {
        endpoints: ['main'],
        http: [
          route('/copy', { mirror: { host: 'shadow' } }),
          route('/zero', { mirror: { host: 'shadow' }, mirrorPercentage: { value: 0 } }),
          route('/half', { mirror: { host: 'shadow' }, mirrorPercentage: { value: 50 } }),
          route('/to-dead', { mirror: { host: 'deadshadow' } }),
          route('/to-slow', { mirror: { host: 'slowshadow' } }),
          route('/retried', { mirror: { host: 'shadow' }, retries: { attempts: 2, retryOn: '5xx' } }),
        ],
      },
      shadow: { endpoints: ['shadow'] },
      slowshadow: { endpoints: ['slow'] },
      deadshadow: { endpoints: ['dead'] },
    },
  });
  const { clock } = fx;
  const copies = () => fx.upstreams.shadow.requests;
  const sent = () => fx.sidecar.stats.get('http.mirror.sent');

  row({ id: 'MI-01', field: 'VirtualService.http.mirror', rule: 'Envoy shadow policy: a copy goes to the mirror cluster with `-shadow` appended to the host; the client gets the main answer' }, async () => {
    const before = copies();
    const res = await fx.send('svc', '/copy/p', { headers: { 'x-trace': 'one' } });
    assertProxied(res, { status: 200, upstream: 'main' });
    assert.equal(res.hits.main, 1);
    await until(() => copies() > before);
    const copy = fx.upstreams.shadow.hits.at(-1)!;
    assert.equal(copy.headers.host, 'svc-shadow:8080');
    assert.equal(copy.method, 'GET');
    assert.match(copy.path, /^\/copy\/p\?n=\d+$/);
    assert.equal(copy.headers['x-trace'], 'one');
  });

  row({ id: 'MI-02', field: 'VirtualService.http.mirrorPercentage', rule: 'istiod: without mirrorPercentage every request is mirrored (100%)' }, async () => {
    const before = copies();
    const mirrored = sent();
    for (let i = 0; i < 10; i++) assertProxied(await fx.send('svc', '/copy'), { status: 200 });
    assert.equal(sent() - mirrored, 10);
    await until(() => copies() - before === 10);
  });

  row({ id: 'MI-03', field: 'VirtualService.http.mirrorPercentage', rule: 'istiod: mirrorPercentage 0 sends no mirror policy at all: no copy, no draw' }, async () => {
    const mirrored = sent();
    fx.seed(1);
    for (let i = 0; i < 10; i++) assertProxied(await fx.send('svc', '/zero'), { status: 200 });
    assert.equal(sent(), mirrored, 'nothing mirrored');
    assert.equal(fx.draws, 0, 'no random draw for a route without a mirror');
    // A mirrored request after them: its copy is the only one the shadow receives.
    const before = copies();
    await fx.send('svc', '/copy/sentinel');
    await until(() => copies() > before);
    assert.equal(copies(), before + 1);
    assert.match(fx.upstreams.shadow.hits.at(-1)!.path, /^\/copy\/sentinel/);
  });

  row({ id: 'MI-04', field: 'VirtualService.http.mirrorPercentage', rule: 'Envoy runtime fraction: mirrorPercentage 50 mirrors exactly the requests whose draw falls below 50%' }, async () => {
    const N = 30;
    fx.seed(31);
    const replay = seededRandom(31);
    const expected = Array.from({ length: N }, () => replay() * 100 < 50);
    const before = copies();
    const mirrored: boolean[] = [];
    for (let i = 0; i < N; i++) {
      const count = sent();
      assertProxied(await fx.send('svc', '/half'), { status: 200 });
      mirrored.push(sent() > count);
    }
    assert.deepEqual(mirrored, expected);
    assert.equal(fx.draws, N, 'one draw per request');
    const want = expected.filter(Boolean).length;
    assert.ok(want > 0 && want < N, 'the seed gives a mix');
    await until(() => copies() - before === want);
  });

  row({ id: 'MI-05', field: 'VirtualService.http.mirror', rule: 'Envoy shadow writer: a mirror that cannot be reached does not touch the main response (200, no flag)' }, async () => {
    const failed = fx.sidecar.stats.get('http.mirror.failed');
    assertProxied(await fx.send('svc', '/to-dead'), { status: 200, upstream: 'main' });
    await until(() => fx.sidecar.stats.get('http.mirror.failed') > failed);
  });

  row({ id: 'MI-06', field: 'VirtualService.http.mirror', rule: 'Envoy shadow writer: a slow mirror does not delay the main response' }, async () => {
    fx.upstreams.slow.script({ delayMs: 60_000 });
    try {
      const before = fx.upstreams.slow.requests;
      fx.armed.skipAll();
      const call = fx.request('svc', '/to-slow');
      assertProxied(await fx.outcome(call), { status: 200, upstream: 'main' });
      await until(() => fx.upstreams.slow.requests > before);
      assert.equal(await fx.armed.next(), 60_000, 'the copy is still held by the mirror');
      clock.advance(60_000);
    } finally {
      fx.upstreams.slow.script({});
    }
  });

  row({ id: 'MI-07', field: 'VirtualService.http.mirror', rule: 'Envoy shadow writer: the mirror\'s answer is discarded: its 503 never reaches the client' }, async () => {
    const before = copies();
    fx.upstreams.shadow.script({ failNext: 1, status: 503 });
    try {
      assertProxied(await fx.send('svc', '/copy/fails'), { status: 200, upstream: 'main' });
      await until(() => copies() > before);
    } finally {
      fx.upstreams.shadow.script({});
    }
  });

  row({ id: 'MI-08', field: 'VirtualService.http.mirror', rule: 'Envoy router: the mirror is decided and sent once per request, not once per retry' }, async () => {
    const mirrored = sent();
    const res = await fx.send('svc', '/retried', { headers: { 'x-upstream-status': '503' } });
    assertProxied(res, { status: 503, flag: 'URX' });
    assert.equal(res.hits.main, 3);
    assert.equal(sent() - mirrored, 1);
  });
});
