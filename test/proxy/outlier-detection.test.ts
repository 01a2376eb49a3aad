import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { ControlPlane } from '../../src/controlplane/control-plane.js';
import { AdminServer } from '../../src/proxy/admin-server.js';
import { Sidecar } from '../../src/proxy/sidecar.js';
import type { OutlierEvent } from '../../src/proxy/upstream/outlier-events.js';
import type { ClusterStatus } from '../../src/proxy/upstream/outlier-status.js';
import { startFaultyUpstream, type FaultyUpstream } from '../../src/platform/local/faulty-upstream.js';
import { outlierSettings } from '../../src/proxy/upstream/outlier-settings.js';
import { seededRandom } from '../../src/util/seeded-random.js';
import { tempFiles } from '../cli/helpers.js';
import { translate } from '../controlplane/fixtures.js';
import { ManualClock } from '../support/manual-clock.js';
import { clusterName, INTERVAL_MS, outlierProbe, outlierSnapshot, PORT, type ClusterSpec } from './outlier-fixture.js';

// DestinationRule outlierDetection through a real sidecar and real faulty upstreams on
// loopback (127.10.170.0/24), on a manual clock: ejections happen on the try that reaches
// the threshold, returns at the interval sweeps the test fires by advancing the clock.

const NET = '127.10.170';
const PROXY = `${NET}.1`;
const at = (n: number) => `${NET}.${n}`;
const DEAD = at(31); // nothing listens there: connection refused

describe('outlierDetection settings (istiod applyOutlierDetection + Envoy defaults)', () => {
  test('no outlierDetection: no detector', () => {
    assert.equal(outlierSettings(undefined), null);
    assert.equal(outlierSettings(null), null);
  });

  test('an empty policy gets Envoy defaults: 5 consecutive 5xx, gateway off, 10s interval, 30s base, 300s cap, 10%, no panic', () => {
    assert.deepEqual(outlierSettings({}), {
      consecutive5xx: 5,
      consecutiveGateway: 0,
      intervalMs: 10_000,
      baseEjectionMs: 30_000,
      maxEjectionMs: 300_000,
      maxEjectionPercent: 10,
      minHealthPercent: 0,
      unsupported: [],
    });
  });

  test('fields as written: durations, wrapped and string counts, percentages', () => {
    const s = outlierSettings({ consecutive5xxErrors: { value: 3 }, consecutiveGatewayErrors: '2', interval: '1m30s', baseEjectionTime: '500ms', maxEjectionPercent: 40, minHealthPercent: 25 })!;
    assert.equal(s.consecutive5xx, 3);
    assert.equal(s.consecutiveGateway, 2);
    assert.equal(s.intervalMs, 90_000);
    assert.equal(s.baseEjectionMs, 500);
    assert.equal(s.maxEjectionPercent, 40);
    assert.equal(s.minHealthPercent, 25);
  });

  test('consecutive5xxErrors: 0 turns 5xx detection off; maxEjectionPercent: 0 means Envoy default 10', () => {
    const s = outlierSettings({ consecutive5xxErrors: 0, maxEjectionPercent: 0 })!;
    assert.equal(s.consecutive5xx, 0);
    assert.equal(s.maxEjectionPercent, 10);
  });

  test('deprecated consecutiveErrors maps to gateway errors only (istio/api#617); explicit fields win', () => {
    assert.deepEqual([outlierSettings({ consecutiveErrors: 4 })!.consecutiveGateway, outlierSettings({ consecutiveErrors: 4 })!.consecutive5xx], [4, 0]);
    const both = outlierSettings({ consecutiveErrors: 4, consecutive5xxErrors: 7, consecutiveGatewayErrors: 2 })!;
    assert.deepEqual([both.consecutiveGateway, both.consecutive5xx], [2, 7]);
  });

  test('max_ejection_time is Envoy 300s, or the base when the base is larger', () => {
    assert.equal(outlierSettings({ baseEjectionTime: '10m' })!.maxEjectionMs, 600_000);
  });

  test('split local-origin errors are reported as unsupported, not silently ignored: by the sidecar and by the control plane', () => {
    assert.deepEqual(outlierSettings({ splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 2 })!.unsupported, ['splitExternalLocalOriginErrors', 'consecutiveLocalOriginFailures']);
    const dr = (od: string) => `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: ratings}\nspec: {host: ratings, trafficPolicy: {outlierDetection: ${od}}}\n`;
    const split = translate(dr('{splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 2}')).notes;
    assert.ok(split.some((n) => n.includes('DestinationRule bookinfo/ratings') && n.includes('outlierDetection.splitExternalLocalOriginErrors')), split.join('\n'));
    assert.deepEqual(translate(dr('{consecutive5xxErrors: 2}')).notes.filter((n) => n.includes('outlierDetection')), []);
  });
});

describe('outlier detection in the sidecar (Envoy consecutive_5xx / gateway_failure under Istio)', { timeout: 60_000 }, () => {
  const clock = new ManualClock();
  let sidecar: Sidecar;
  const ups = new Map<number, FaultyUpstream>();
  const probe = outlierProbe(() => sidecar, PROXY, clock);
  const up = (n: number) => ups.get(n)!;
  const base = { interval: '10s', baseEjectionTime: '30s' };
  const specs: ClusterSpec[] = [
    { name: 'exact', hosts: [at(10), at(11)], outlier: { ...base, maxEjectionPercent: 50 } },
    { name: 'backoff', hosts: [at(12), at(13)], outlier: { ...base, consecutive5xxErrors: 2, maxEjectionPercent: 50 } },
    { name: 'gateway', hosts: [at(14)], outlier: { ...base, consecutive5xxErrors: 0, consecutiveGatewayErrors: 3 } },
    { name: 'refused', hosts: [DEAD], outlier: base },
    { name: 'slow', hosts: [at(15)], outlier: { ...base, consecutive5xxErrors: 2 }, timeoutMs: 100 },
    { name: 'reset', hosts: [at(16)], outlier: { ...base, consecutive5xxErrors: 3 } },
    { name: 'maxpct', hosts: [at(20), at(21), at(22), at(23)], outlier: { ...base, consecutive5xxErrors: 1, maxEjectionPercent: 50 } },
    { name: 'onehost', hosts: [at(24), at(25), at(26)], outlier: { ...base, consecutive5xxErrors: 1 } },
    { name: 'panic', hosts: [at(27), at(28), at(29), at(30)], outlier: { ...base, consecutive5xxErrors: 1, maxEjectionPercent: 100, minHealthPercent: 60 } },
    { name: 'swap', hosts: [at(32), at(33)], outlier: { ...base, consecutive5xxErrors: 1, maxEjectionPercent: 50 } },
  ];
  const apply = (version: string, list: ClusterSpec[]) => {
    const r = sidecar.applySnapshot(outlierSnapshot(version, PROXY, list));
    assert.equal(r.ok, true, JSON.stringify(r));
  };

  before(async () => {
    for (const n of [10, 11, 12, 13, 14, 15, 16, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 32, 33]) {
      ups.set(n, await startFaultyUpstream({ host: at(n), port: PORT, name: `pod-${n}`, clock }));
    }
    sidecar = new Sidecar({ clock, random: seededRandom(3) });
    apply('1', specs);
    await sidecar.settled();
    assert.equal(sidecar.bindErrors.size, 0);
  });

  after(async () => {
    await sidecar?.stop(0);
    await Promise.all([...ups.values()].map((u) => u.close()));
  });

  test('Envoy consecutive_5xx: ejected on exactly the 5th consecutive 5xx (default), not the 4th; traffic then avoids it', async () => {
    up(10).script({ failPercent: 100, status: 500 });
    while (up(10).requests < 4) await probe.send('exact');
    assert.equal(probe.state('exact', at(10))?.consecutive5xx, 4);
    assert.equal(probe.state('exact', at(10))?.ejected, false, 'not ejected after 4 errors');
    while (up(10).requests < 5) await probe.send('exact');
    assert.equal(probe.state('exact', at(10))?.ejected, true, 'ejected on the 5th error');
    assert.equal(probe.stat('exact', 'ejections_active'), 1);
    assert.equal(probe.stat('exact', 'ejections_enforced_total'), 1);
    assert.equal(probe.stat('exact', 'ejections_enforced_consecutive_5xx'), 1);
    for (let i = 0; i < 6; i++) {
      const r = await probe.send('exact');
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-upstream-name'], 'pod-11');
    }
    assert.equal(up(10).requests, 5, 'the ejected host gets no traffic');
    const ev = sidecar.outliers.events.list().find((e) => e.cluster === clusterName('exact'));
    assert.deepEqual(ev && { ...ev, time: 0 }, { time: 0, cluster: clusterName('exact'), host: `${at(10)}:${PORT}`, instance: 'pod-10', kind: 'eject', reason: 'consecutive_5xx', ejections: 1, durationMs: 30_000 });
  });

  test('baseEjectionTime: the host returns at the first interval sweep 30s after its ejection; the 2nd ejection lasts 60s; the multiplier decays per healthy interval', async () => {
    const host = at(12);
    const sweepsUntilBack = () => {
      const ejectedAt = clock.now();
      const sweeps: Array<{ t: number; ejected: boolean }> = [];
      while (probe.state('backoff', host)!.ejected) sweeps.push({ t: probe.sweep() - ejectedAt, ejected: probe.state('backoff', host)!.ejected });
      return sweeps;
    };
    clock.advance(1000); // off the sweep grid: the return waits for the sweep after 30s
    up(12).script({ failPercent: 100, status: 503 });
    while (!probe.state('backoff', host)!.ejected) await probe.send('backoff');
    const first = sweepsUntilBack();
    assert.ok(first.at(-2)!.t < 30_000 && first.at(-2)!.ejected, 'still ejected at the last sweep before 30s');
    assert.ok(first.at(-1)!.t >= 30_000 && first.at(-1)!.t < 30_000 + INTERVAL_MS && !first.at(-1)!.ejected, `back at the first sweep after 30s: ${JSON.stringify(first)}`);
    // Fails again at once (no healthy interval in between): twice the base.
    while (!probe.state('backoff', host)!.ejected) await probe.send('backoff');
    const second = sweepsUntilBack();
    assert.equal(second.at(-1)!.t, 60_000, 'second ejection: base x 2 (ejected on a sweep, back on the sweep 60s later)');
    assert.equal(second.at(-2)!.t, 50_000);
    up(12).script({});
    const before = up(12).requests;
    for (let i = 0; i < 4; i++) assert.equal((await probe.send('backoff')).status, 200);
    assert.ok(up(12).requests > before, 'traffic is back on the host');
    probe.sweep();
    probe.sweep(); // two healthy intervals: multiplier 2 -> 0
    up(12).script({ failPercent: 100, status: 503 });
    while (!probe.state('backoff', host)!.ejected) await probe.send('backoff');
    assert.equal(probe.state('backoff', host)!.ejectedForMs, 30_000, 'third ejection: back to the base');
    const ejects = sidecar.outliers.events.list().filter((e) => e.cluster === clusterName('backoff') && e.kind === 'eject');
    assert.deepEqual(ejects.map((e) => [e.ejections, e.durationMs]), [[1, 30_000], [2, 60_000], [3, 30_000]]);
    const returns = sidecar.outliers.events.list().filter((e) => e.cluster === clusterName('backoff') && e.kind === 'uneject');
    assert.deepEqual(returns.map((e) => e.durationMs), [first.at(-1)!.t, 60_000]);
  });

  test('consecutiveGatewayErrors: 502/503/504 count, a 500 resets the gateway count; reason consecutive_gateway_failure', async () => {
    const codes = ['502', '503', '500', '504', '502', '500', '500', '500', '500', '500', '500'];
    for (const c of codes) assert.equal((await probe.send('gateway', { 'x-upstream-status': c })).status, Number(c));
    assert.equal(probe.state('gateway', at(14))?.ejected, false, 'consecutive5xxErrors: 0 keeps 500s from ejecting');
    assert.equal(probe.state('gateway', at(14))?.consecutiveGatewayErrors, 0);
    for (const c of ['503', '504']) await probe.send('gateway', { 'x-upstream-status': c });
    assert.equal(probe.state('gateway', at(14))?.ejected, false);
    await probe.send('gateway', { 'x-upstream-status': '502' });
    assert.equal(probe.state('gateway', at(14))?.ejected, true);
    assert.equal(probe.state('gateway', at(14))?.reason, 'consecutive_gateway_failure');
    assert.equal(probe.stat('gateway', 'ejections_enforced_consecutive_gateway_failure'), 1);
    const r = await probe.send('gateway');
    assert.equal(r.status, 503, 'the only host is ejected');
    assert.equal(r.flag, 'UH');
    assert.equal(r.body, 'no healthy upstream');
  });

  test('connect failures count as 5xx: five UF replies eject the host, the next request is UH', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await probe.send('refused');
      assert.equal(r.status, 503);
      assert.equal(r.flag, 'UF');
    }
    assert.equal(probe.state('refused', DEAD)?.ejected, true);
    assert.equal((await probe.send('refused')).flag, 'UH');
  });

  test('route timeouts count (504): two UT replies eject the host with consecutive5xxErrors 2', async () => {
    for (let i = 0; i < 2; i++) {
      while (clock.unconsumed > 0) await clock.nextArmed();
      const pending = probe.send('slow', { 'x-upstream-delay-ms': '60000' });
      const armed = [await clock.nextArmed(), await clock.nextArmed()].sort((a, b) => a - b);
      assert.deepEqual(armed, [100, 60_000], 'the route timer and the upstream delay');
      clock.advance(100);
      const r = await pending;
      assert.equal(r.status, 504);
      assert.equal(r.flag, 'UT');
      assert.equal(probe.state('slow', at(15))?.ejected, i === 1);
    }
    assert.equal((await probe.send('slow')).flag, 'UH');
  });

  test('a success resets the consecutive 5xx count', async () => {
    for (const c of ['500', '500', '200', '500', '500']) await probe.send('reset', { 'x-upstream-status': c });
    assert.equal(probe.state('reset', at(16))?.ejected, false);
    assert.equal(probe.state('reset', at(16))?.consecutive5xx, 2);
    await probe.send('reset', { 'x-upstream-status': '500' });
    assert.equal(probe.state('reset', at(16))?.ejected, true);
  });

  test('maxEjectionPercent 50 of 4 hosts: 2 ejected, every further detection is an ejections_overflow', async () => {
    for (let i = 0; i < 8; i++) await probe.send('maxpct', { 'x-upstream-status': '503' });
    assert.equal(probe.stat('maxpct', 'ejections_active'), 2);
    assert.equal(probe.stat('maxpct', 'ejections_overflow'), 6);
  });

  test('maxEjectionPercent 10 (default) of 3 hosts: one host may always be ejected, a second may not', async () => {
    for (let i = 0; i < 6; i++) await probe.send('onehost', { 'x-upstream-status': '503' });
    assert.equal(probe.stat('onehost', 'ejections_active'), 1);
    assert.equal(probe.stat('onehost', 'ejections_overflow'), 5);
  });

  test('minHealthPercent 60 of 4 hosts: after the 2nd ejection (50% healthy) the cluster panics: nothing more is ejected, all 4 hosts take traffic', async () => {
    const hits = () => [27, 28, 29, 30].map((n) => up(n).requests);
    for (let i = 0; i < 2; i++) await probe.send('panic', { 'x-upstream-status': '503' });
    assert.equal(probe.stat('panic', 'ejections_active'), 2);
    assert.equal(sidecar.outliers.get(clusterName('panic'))!.panic, true);
    const before = hits();
    for (let i = 0; i < 8; i++) await probe.send('panic', { 'x-upstream-status': '503' });
    assert.equal(probe.stat('panic', 'ejections_active'), 2, 'no ejection below minHealthPercent');
    assert.equal(probe.stat('panic', 'ejections_overflow'), 0);
    assert.deepEqual(hits().map((h, i) => h - before[i]), [2, 2, 2, 2], 'round robin over all hosts, ejected ones included');
  });

  test('a snapshot swap keeps the ejection; a changed policy starts afresh; a host whose endpoint left is forgotten', async () => {
    const ejected = at(32);
    const eject = async () => {
      while (!probe.state('swap', ejected)?.ejected) await probe.send('swap', { 'x-upstream-status': '503' });
    };
    await eject();
    const left = probe.state('swap', ejected)!.ejectedForMs;
    apply('2', [...specs, { name: 'unrelated', hosts: [at(40)] }]);
    assert.equal(probe.state('swap', ejected)?.ejected, true, 'an unrelated change keeps the ejection');
    assert.equal(probe.state('swap', ejected)?.ejectedForMs, left);
    assert.equal(probe.stat('swap', 'ejections_active'), 1);
    for (let i = 0; i < 4; i++) assert.equal((await probe.send('swap')).headers['x-upstream-name'], 'pod-33', 'the new snapshot routes around it too');
    const changed = specs.map((s) => (s.name === 'swap' ? { ...s, outlier: { ...base, consecutive5xxErrors: 1, maxEjectionPercent: 100 } } : s));
    apply('3', changed);
    assert.equal(probe.state('swap', ejected)?.ejected, false, 'a new policy is a new detector (Envoy rebuilds the cluster)');
    assert.equal(probe.stat('swap', 'ejections_active'), 0);
    await eject();
    apply('4', changed.map((s) => (s.name === 'swap' ? { ...s, hosts: [at(33)] } : s)));
    assert.equal(probe.state('swap', ejected), undefined, 'the endpoint left: its state goes with it');
    assert.equal(probe.stat('swap', 'ejections_active'), 0, 'the gauge follows the host out');
    apply('5', changed.filter((s) => s.name !== 'backoff'));
    assert.equal(sidecar.outliers.get(clusterName('backoff')), undefined, 'a removed cluster stops its detector');
  });
});

describe('where ejections show: admin /clusters and /outlier_events, meshmedic proxy-config endpoints', { timeout: 60_000 }, () => {
  const ADMIN_PROXY = `${NET}.2`;
  const clock = new ManualClock();
  let sidecar: Sidecar;
  let admin: AdminServer;
  let cp: ControlPlane;
  let bad: FaultyUpstream;
  let good: FaultyUpstream;
  let state: ReturnType<typeof tempFiles>;
  const probe = outlierProbe(() => sidecar, ADMIN_PROXY, clock);
  const adminGet = async (path: string) => {
    const res = await fetch(`http://${ADMIN_PROXY}:15000${path}`);
    assert.equal(res.status, 200);
    return res;
  };

  before(async () => {
    bad = await startFaultyUpstream({ host: at(50), port: PORT, name: 'bad' });
    good = await startFaultyUpstream({ host: at(51), port: PORT, name: 'good' });
    sidecar = new Sidecar({ clock });
    const r = sidecar.applySnapshot(
      outlierSnapshot('1', ADMIN_PROXY, [
        { name: 'seen', hosts: [at(50), at(51)], outlier: { consecutive5xxErrors: 2, maxEjectionPercent: 50 } },
        { name: 'plain', hosts: [at(52)] },
      ]),
    );
    assert.equal(r.ok, true, JSON.stringify(r));
    await sidecar.settled();
    admin = new AdminServer(sidecar);
    await admin.listen(ADMIN_PROXY, 15000);
    // A real control plane knows the instance: the CLI finds the sidecar's admin address through it.
    cp = new ControlPlane({ host: '127.10.172.1', port: 0 });
    const { url } = await cp.start();
    cp.registry.upsert({ name: 'test-0', workload: 'test', namespace: 'bookinfo', serviceAccount: 'default', labels: { app: 'test' }, address: ADMIN_PROXY, ports: [], healthy: true, source: 'registered' });
    state = tempFiles({ 'controlplane.json': JSON.stringify({ pid: process.pid, url, startedAt: new Date().toISOString() }) });
    bad.script({ failPercent: 100, status: 503 });
    clock.advance(4000);
    while (!probe.state('seen', at(50))?.ejected) await probe.send('seen');
    clock.advance(12_500); // 17.5 s of the 30 s ejection left
  });

  after(async () => {
    await admin?.close();
    await sidecar?.stop(0);
    await cp?.stop();
    await Promise.all([bad?.close(), good?.close()]);
    state?.cleanup();
  });

  test('/clusters?format=json: EJECTED with its ejection count, time left, reason and counters; the others HEALTHY', async () => {
    const { clusters } = (await (await adminGet('/clusters?format=json')).json()) as { clusters: ClusterStatus[] };
    const seen = clusters.find((c) => c.name === clusterName('seen'))!;
    assert.equal(seen.outlierDetection, true);
    assert.equal(seen.ejectionsActive, 1);
    assert.deepEqual(seen.endpoints, [
      { endpoint: `${at(50)}:${PORT}`, instance: 'pod-50', status: 'EJECTED', ejections: 1, ejectedForMs: 17_500, consecutive5xx: 0, consecutiveGatewayErrors: 2, ejectionReason: 'consecutive_5xx' },
      { endpoint: `${at(51)}:${PORT}`, instance: 'pod-51', status: 'HEALTHY', ejections: 0, ejectedForMs: 0, consecutive5xx: 0, consecutiveGatewayErrors: 0 },
    ]);
    const plain = clusters.find((c) => c.name === clusterName('plain'))!;
    assert.equal(plain.outlierDetection, false);
    assert.equal(plain.endpoints[0].status, 'HEALTHY');
  });

  test('/clusters text: Envoy-style lines with /failed_outlier_check', async () => {
    const text = await (await adminGet('/clusters')).text();
    assert.match(text, new RegExp(`^${escape(clusterName('seen'))}::${escape(at(50))}:${PORT}::health_flags::/failed_outlier_check$`, 'm'));
    assert.match(text, new RegExp(`^${escape(clusterName('seen'))}::${escape(at(50))}:${PORT}::ejected_for_ms::17500$`, 'm'));
    assert.match(text, new RegExp(`^${escape(clusterName('seen'))}::${escape(at(51))}:${PORT}::health_flags::healthy$`, 'm'));
  });

  test('/outlier_events: the ejection with time, host, instance, reason', async () => {
    const { events } = (await (await adminGet('/outlier_events')).json()) as { events: OutlierEvent[] };
    assert.deepEqual(events, [{ time: 4000, cluster: clusterName('seen'), host: `${at(50)}:${PORT}`, instance: 'pod-50', kind: 'eject', reason: 'consecutive_5xx', ejections: 1, durationMs: 30_000 }]);
  });

  test('meshmedic proxy-config endpoints: STATUS EJECTED, OUTLIER CHECK FAILED, EJECTED FOR 18s; -o json has the same data', async () => {
    const table = await runCliAsync(['proxy-config', 'endpoints', 'test-0', '-n', 'bookinfo', '--state-dir', state.dir]);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trim().split('\n');
    assert.match(lines[0], /^ENDPOINT\s+STATUS\s+OUTLIER CHECK\s+EJECTIONS\s+EJECTED FOR\s+INSTANCE\s+CLUSTER$/);
    const row = (key: string) => lines.find((l) => l.startsWith(key))!.split(/\s{2,}/);
    assert.deepEqual(row(`${at(50)}:${PORT}`), [`${at(50)}:${PORT}`, 'EJECTED', 'FAILED', '1', '18s', 'pod-50', clusterName('seen')]);
    assert.deepEqual(row(`${at(51)}:${PORT}`), [`${at(51)}:${PORT}`, 'HEALTHY', 'OK', '0', 'pod-51', clusterName('seen')]);
    assert.deepEqual(row(`${at(52)}:${PORT}`), [`${at(52)}:${PORT}`, 'HEALTHY', '-', '0', 'pod-52', clusterName('plain')]);
    const json = await runCliAsync(['proxy-config', 'endpoints', 'test-0', '-n', 'bookinfo', '--state-dir', state.dir, '-o', 'json']);
    assert.equal(json.code, 0, json.stderr);
    const views = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(views.find((v) => v.endpoint === `${at(50)}:${PORT}`), {
      endpoint: `${at(50)}:${PORT}`,
      status: 'EJECTED',
      outlierCheck: 'FAILED',
      ejections: 1,
      ejectedForMs: 17_500,
      consecutive5xx: 0,
      consecutiveGatewayErrors: 2, // counted as in Envoy, though gateway detection is off
      ejectionReason: 'consecutive_5xx',
      instance: 'pod-50',
      cluster: clusterName('seen'),
    });
  });
});

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The real CLI as a child process, without blocking this process (it serves the admin and control plane the CLI calls). */
function runCliAsync(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
