import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { callDaemon } from '../../src/platform/local/daemon-client.js';
import { controlSocketPath } from '../../src/platform/local/mesh-processes.js';
import { isAlive, StateDir } from '../../src/platform/local/state-dir.js';
import { ChaosMesh, cpuMs, durationSum, eventually, getJson, processState } from './chaos-fixture.js';

// Every fault type on a real local mesh (`meshmedic up`: front -> api (2 instances) -> store
// (v1, v2)): inject, see the effect through the sidecars, find the ground truth in `chaos
// list`, clear, see the effect gone. Conditions are waited on (bounded), never timed.

const mesh = new ChaosMesh('127.17');
const state = new StateDir(mesh.home);
const appFaults = (instance: string) => getJson({ socketPath: controlSocketPath(mesh.home, 'shop', instance), path: '/faults' });
const netFaults = (instance: string) => getJson({ host: mesh.addresses.get(instance), port: 15000, path: '/chaos/network' });
const statuses = async (n: number, send: () => Promise<{ status: number }>) => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await send()).status);
  return out;
};

describe('chaos on the local mesh', () => {
  before(() => mesh.up());

  after(async () => {
    await mesh.closePools();
    mesh.cli(['down']);
    for (const rec of [state.mesh(), state.controlPlane()]) if (rec && isAlive(rec.pid)) process.kill(rec.pid, 'SIGKILL');
    rmSync(mesh.home, { recursive: true, force: true });
  });

  test('latency on a service: every instance slow while in force; list shows the ground truth; clear empties the fault sets', async () => {
    const id = mesh.inject('latency', '-t', 'api', '--delay', '400ms');
    const slow = await mesh.via('front-v1-0', 'http://api:8080/');
    assert.equal(slow.status, 200);
    assert.ok(slow.ms >= 400, `${slow.ms} ms`);
    const inj = mesh.injection(id);
    assert.deepEqual([inj.type, inj.state, inj.target, inj.params], ['latency', 'active', { kind: 'service', namespace: 'shop', name: 'api' }, { delayMs: 400, percent: 100 }]);
    assert.equal(inj.expectedCause.label, 'service api.shop (slow)');
    assert.equal(inj.endsAt - inj.startedAt, 300_000);
    assert.deepEqual(inj.effects.instances, ['api-v1-0.shop', 'api-v1-1.shop']);
    assert.deepEqual((await appFaults('api-v1-1')).faults, { [id]: { latency: { ms: 400, percent: 100 } } });
    assert.equal(mesh.ok(['chaos', 'clear', id]), `${id} cleared (cleared by request)\n`);
    assert.deepEqual([(await appFaults('api-v1-0')).faults, (await appFaults('api-v1-1')).faults], [{}, {}]);
    assert.equal(mesh.injection(id).state, 'cleared');
    assert.equal(mesh.ok(['chaos', 'clear', id]), `${id} cleared (cleared by request)\n`, 'clearing again changes nothing');
  });

  test('bad arguments: usage errors exit 64, unknown targets and ids exit 1', () => {
    const noDelay = mesh.cli(['chaos', 'inject', 'latency', '-t', 'api']);
    assert.deepEqual([noDelay.code, noDelay.stderr], [64, 'Error: latency needs --delay [E_CHAOS_PARAM]\n']);
    const target = mesh.cli(['chaos', 'inject', 'instance-crash', '-t', 'api']);
    assert.deepEqual([target.code, target.stderr], [1, 'Error: api is a service; the target of instance-crash must be an instance [E_CHAOS_TARGET]\n']);
    const unknown = mesh.cli(['chaos', 'clear', 'c999']);
    assert.deepEqual([unknown.code, unknown.stderr], [1, 'Error: no injection c999 (see: meshmedic chaos list) [E_CHAOS_NOT_FOUND]\n']);
  });

  test('error-rate on a workload: its instance answers 500, the other version does not', async () => {
    const id = mesh.inject('error-rate', '-t', 'store-v2', '--status', '500');
    assert.deepEqual(await statuses(3, () => mesh.direct('store-v2-0')), [500, 500, 500]);
    assert.deepEqual(await statuses(3, () => mesh.direct('store-v1-0')), [200, 200, 200]);
    const viaApi = await statuses(10, () => mesh.via('api-v1-0', 'http://store:8080/'));
    assert.ok(viaApi.includes(500) && viaApi.includes(200), `${viaApi}`);
    assert.equal(mesh.injection(id).expectedCause.label, 'workload store-v2.shop (errors)');
    mesh.ok(['chaos', 'clear', id]);
    assert.deepEqual(await statuses(10, () => mesh.via('api-v1-0', 'http://store:8080/')), Array(10).fill(200));
  });

  test('instance-crash: the application is down (503 UF) and out of load balancing until cleared', async () => {
    const id = mesh.inject('instance-crash', '-t', 'api-v1-1');
    const down = await mesh.direct('api-v1-1');
    assert.deepEqual([down.status, down.flags], [503, 'UF']);
    await eventually('api-v1-1 marked not ready', () => JSON.parse(mesh.ok(['status', '-o', 'json'])).instances.find((i: { name: string }) => i.name === 'api-v1-1').healthy, (h) => h === false);
    assert.deepEqual(await statuses(6, () => mesh.via('front-v1-0', 'http://api:8080/')), Array(6).fill(200));
    const inj = mesh.injection(id);
    assert.deepEqual([inj.effects.process, inj.expectedCause.label], ['app/api-v1-1.shop', 'instance api-v1-1.shop (crashed)']);
    assert.equal(isAlive(inj.effects.pid as number), false);
    mesh.ok(['chaos', 'clear', id]);
    await eventually('api-v1-1 answers again', () => mesh.direct('api-v1-1').then((r) => r.status), (s) => s === 200);
  });

  test('instance-hang: the application is stopped (no answer) and continued on clear', async () => {
    const id = mesh.inject('instance-hang', '-t', 'store-v1-0');
    const pid = mesh.injection(id).effects.pid as number;
    assert.equal(processState(pid), 'T');
    await assert.rejects(mesh.direct('store-v1-0', 1000), /aborted|timeout/i);
    mesh.ok(['chaos', 'clear', id]);
    assert.notEqual(processState(pid), 'T');
    await eventually('store-v1-0 answers again', () => mesh.direct('store-v1-0').then((r) => r.status), (s) => s === 200);
  });

  test('cpu-burn: the instance spends CPU while in force; clear stops it', async () => {
    const id = mesh.inject('cpu-burn', '-t', 'store-v2-0', '--cpu', '90');
    const pid = await appPid('store-v2-0');
    const start = cpuMs(pid);
    await eventually('CPU spent', () => cpuMs(pid) - start, (ms) => ms >= 400);
    assert.deepEqual((await appFaults('store-v2-0')).faults, { [id]: { cpu: { percent: 90 } } });
    mesh.ok(['chaos', 'clear', id]);
    assert.deepEqual((await appFaults('store-v2-0')).faults, {});
  });

  test('network-delay on an edge: source-reported latency grows, destination-reported does not', async () => {
    const id = mesh.inject('network-delay', '-t', 'front->api', '--delay', '300ms');
    assert.deepEqual((await netFaults('front-v1-0')).faults[id].hosts, ['api', 'api.shop', 'api.shop.svc', 'api.shop.svc.cluster.local']);
    assert.deepEqual((await netFaults('api-v1-0')).faults, {});
    const before = await edgeSums();
    for (let i = 0; i < 4; i++) assert.equal((await mesh.via('front-v1-0', 'http://api:8080/')).status, 200);
    const after = await edgeSums();
    assert.equal(after.source.count - before.source.count, 4);
    assert.equal(after.destination.count - before.destination.count, 4);
    // The hold is outside the destination's measurement: the source saw at least 300 ms more per request.
    const gap = after.source.sum - before.source.sum - (after.destination.sum - before.destination.sum);
    assert.ok(gap >= 4 * 300 - 4, `source minus destination: ${gap} ms`);
    assert.equal(mesh.injection(id).expectedCause.label, 'edge service front.shop -> service api.shop (network)');
    mesh.ok(['chaos', 'clear', id]);
    assert.deepEqual((await netFaults('front-v1-0')).faults, {});
    // An instance: its own sidecar holds everything it sends.
    const own = mesh.inject('network-delay', '-t', 'api-v1-0', '--delay', '50ms', '--percent', '50');
    assert.deepEqual((await netFaults('api-v1-0')).faults, { [own]: { delayMs: 50, percent: 50 } });
    mesh.ok(['chaos', 'clear', own]);
    assert.deepEqual((await netFaults('api-v1-0')).faults, {});
  });

  test('bad-version: new instances of a failing version get a share of traffic; clear removes both', async () => {
    const id = mesh.inject('bad-version', '-t', 'store', '--percent', '50', '--version-label', 'v9');
    const inj = mesh.injection(id);
    assert.deepEqual([inj.expectedCause.label, inj.effects.instances], ['workload store-v9.shop (bad version)', ['store-v9-0.shop']]);
    const vs = JSON.parse(mesh.ok(['get', 'vs', 'store', '-n', 'shop', '-o', 'json']));
    assert.deepEqual(vs.spec.http[0].route.map((r: { destination: { subset: string }; weight: number }) => [r.destination.subset, r.weight]), [['v1', 25], ['v2', 25], ['v9', 50]]);
    const seen = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      const r = await mesh.via('api-v1-0', 'http://store:8080/');
      seen.set(`${r.body.version} ${r.status}`, (seen.get(`${r.body.version} ${r.status}`) ?? 0) + 1);
    }
    assert.deepEqual([...seen.keys()].sort(), ['v1 200', 'v2 200', 'v9 500'], `${[...seen]}`);
    mesh.ok(['chaos', 'clear', id]);
    assert.equal(mesh.cli(['get', 'vs', 'store', '-n', 'shop']).code, 1, 'the VirtualService it created is gone');
    assert.equal(mesh.cli(['get', 'dr', 'store', '-n', 'shop']).code, 1, 'and the DestinationRule');
    const instances = JSON.parse(mesh.ok(['status', '-o', 'json'])).instances.map((i: { name: string }) => i.name);
    assert.ok(!instances.includes('store-v9-0'), `${instances}`);
    assert.deepEqual(await statuses(6, () => mesh.via('api-v1-0', 'http://store:8080/')), Array(6).fill(200));
  });

  test('bad-config: an existing VirtualService is broken (503 NC) at a recorded version, then restored as it was', async () => {
    const file = `${mesh.home}/store-v1.yaml`;
    const original = { hosts: ['store'], http: [{ route: [{ destination: { host: 'store', subset: 'v1' } }] }] };
    writeFileSync(file, JSON.stringify({ apiVersion: 'networking.istio.io/v1', kind: 'List', items: [
      { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'store', namespace: 'shop' }, spec: original },
      { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'store', namespace: 'shop' }, spec: { host: 'store', subsets: [{ name: 'v1', labels: { version: 'v1' } }] } },
    ] }));
    mesh.ok(['apply', '-f', file]);
    await eventually('store routed to v1', () => mesh.via('api-v1-0', 'http://store:8080/').then((r) => r.body.version), (v) => v === 'v1');
    const id = mesh.inject('bad-config', '-t', 'store');
    const broken = await mesh.via('api-v1-0', 'http://store:8080/');
    assert.deepEqual([broken.status, broken.flags], [503, 'NC']);
    const inj = mesh.injection(id);
    const configVersion = JSON.parse(mesh.ok(['status', '-o', 'json'])).controlPlane.configVersion;
    assert.deepEqual(inj.target, { kind: 'config', resource: { kind: 'VirtualService', namespace: 'shop', name: 'store' }, version: configVersion });
    assert.equal(inj.expectedCause.label, `config change VirtualService shop/store (version ${configVersion})`);
    mesh.ok(['chaos', 'clear', id]);
    assert.deepEqual(JSON.parse(mesh.ok(['get', 'vs', 'store', '-n', 'shop', '-o', 'json'])).spec, original);
    assert.deepEqual(await statuses(4, () => mesh.via('api-v1-0', 'http://store:8080/')), [200, 200, 200, 200]);
    mesh.ok(['delete', '-f', file]);
  });

  test('external-outage: refused connections (503 UF) while in force; --duration clears a hang by itself', async () => {
    mesh.ok(['chaos', 'stand-in', 'add', 'api.payments.example']);
    await eventually('the stand-in answers', () => mesh.via('front-v1-0', 'http://api.payments.example/').then((r) => r.status), (s) => s === 200);
    const id = mesh.inject('external-outage', '-t', 'api.payments.example', '--mode', 'refuse');
    const refused = await mesh.via('front-v1-0', 'http://api.payments.example/');
    assert.equal(refused.status, 503);
    assert.match(refused.flags, /^UF/);
    assert.equal(mesh.injection(id).expectedCause.label, 'external host api.payments.example (outage)');
    mesh.ok(['chaos', 'clear', id]);
    assert.equal((await mesh.via('front-v1-0', 'http://api.payments.example/')).status, 200);
    const hang = mesh.inject('external-outage', '-t', 'api.payments.example', '--mode', 'hang', '--duration', '2s');
    await assert.rejects(mesh.via('front-v1-0', 'http://api.payments.example/', 1000), /aborted|timeout/i);
    const ended = await eventually('the hang expires', () => mesh.injection(hang), (i) => i.state !== 'active');
    assert.deepEqual([ended.state, ended.endReason], ['expired', 'its duration ran out']);
    assert.equal((await mesh.via('front-v1-0', 'http://api.payments.example/')).status, 200);
  });

  test('pool-exhaustion: a burst overflows with 503 UO; clear restores the pool', async () => {
    const burst = async () => {
      const replies = await Promise.all(Array.from({ length: 20 }, () => mesh.via('front-v1-0', 'http://api:8080/')));
      return replies.map((r) => `${r.status} ${r.flags}`);
    };
    assert.deepEqual(new Set(await burst()), new Set(['200 -']));
    const id = mesh.inject('pool-exhaustion', '-t', 'api');
    await eventually('overflow', burst, (r) => r.includes('503 UO'));
    assert.equal(mesh.injection(id).expectedCause.label, 'service api.shop (overload)');
    mesh.ok(['chaos', 'clear', id]);
    assert.equal(mesh.cli(['get', 'dr', 'api', '-n', 'shop']).code, 1);
    await eventually('no overflow', burst, (r) => r.every((x) => x === '200 -'));
  });

  test('the daemon API: a restarted application gets its faults back; extra instances start, serve and stop', async () => {
    const id = mesh.inject('latency', '-t', 'store-v1-0', '--delay', '10ms');
    const before = await appPid('store-v1-0');
    const restarted = await callDaemon<{ pid: number }>(mesh.home, 'POST', `/v1/processes/${encodeURIComponent('app/store-v1-0.shop')}/restart`);
    assert.notEqual(restarted.pid, before);
    await eventually('faults back in the new process', () => appFaults('store-v1-0').then((f) => f.faults).catch(() => ({})), (f) => JSON.stringify(f) === JSON.stringify({ [id]: { latency: { ms: 10, percent: 100 } } }));
    mesh.ok(['chaos', 'clear', id]);

    const { started } = await callDaemon<{ started: string[] }>(mesh.home, 'POST', '/v1/instances', { namespace: 'shop', workload: 'store-v2' });
    assert.deepEqual(started, ['store-v2-1.shop']);
    const status = JSON.parse(mesh.ok(['status', '-o', 'json'])).instances.find((i: { name: string }) => i.name === 'store-v2-1');
    assert.equal(status.healthy, true);
    mesh.addresses.set('store-v2-1', status.address);
    assert.equal((await mesh.direct('store-v2-1')).body.instance, 'store-v2-1');
    await eventually('callers reach it', async () => (await mesh.via('api-v1-0', 'http://store:8080/')).body.instance, (i) => i === 'store-v2-1');
    await callDaemon(mesh.home, 'DELETE', '/v1/instances/shop/store-v2-1');
    assert.ok(!JSON.parse(mesh.ok(['status', '-o', 'json'])).instances.some((i: { name: string }) => i.name === 'store-v2-1'));
    const refused = await callDaemon(mesh.home, 'DELETE', '/v1/instances/shop/store-v1-0').catch((e: Error) => e.message);
    assert.equal(refused, 'shop/store-v1-0 belongs to the topology; only extra instances can be removed');
  });

  test('meshmedic down clears what is still in force, and the records stay', async () => {
    const id = mesh.inject('latency', '-t', 'store', '--delay', '1s');
    await mesh.closePools(); // kept-alive connections would hold the sidecars' drain
    mesh.ok(['down']);
    const inj = mesh.injection(id);
    assert.deepEqual([inj.state, inj.endReason], ['cleared', 'the mesh stopped']);
    assert.ok(JSON.parse(mesh.ok(['chaos', 'list', '-o', 'json'])).length >= 12);
  });
});

/** The application pid of an instance, from the mesh daemon's control API. */
async function appPid(instance: string): Promise<number> {
  const { processes } = await callDaemon<{ processes: Array<{ name: string; pid?: number }> }>(mesh.home, 'GET', '/v1/processes');
  const pid = processes.find((p) => p.name === `app/${instance}.shop`)?.pid;
  assert.ok(pid, `no running application for ${instance}`);
  return pid;
}

async function edgeSums() {
  const [source, d0, d1] = await Promise.all([
    durationSum(mesh.addresses.get('front-v1-0')!, 'source', 'api'),
    durationSum(mesh.addresses.get('api-v1-0')!, 'destination', 'api'),
    durationSum(mesh.addresses.get('api-v1-1')!, 'destination', 'api'),
  ]);
  return { source, destination: { sum: d0.sum + d1.sum, count: d0.count + d1.count } };
}
