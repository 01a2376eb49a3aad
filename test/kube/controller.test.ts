import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import type { RankedCause } from '../../src/diagnosis/model.js';
import { KubeClient } from '../../src/platform/kube/kube-client.js';
import { KubeController } from '../../src/platform/kube/kube-controller.js';
import { loadKubeConfig } from '../../src/platform/kube/kubeconfig.js';
import { ACTION_LABEL } from '../../src/platform/kube/recovery-requests.js';
import { AuditLog } from '../../src/recovery/audit-log.js';
import { DEFAULT_SETTINGS } from '../../src/recovery/settings.js';
import type { SloProbe } from '../../src/recovery/slo-watch.js';
import { ConfigHistory } from '../../src/platform/kube/config-history.js';
import { ManualClock } from '../support/manual-clock.js';
import { startRecordedApiServer, type RecordedApiServer } from './recorded-api-server.js';

// The in-cluster loop (`meshmedic controller --platform kube`) against the recorded API server:
// 1. the CLI in manual mode watches, records the history of a VirtualService change, records
//    the plan for the given causes as proposals in the audit log, writes nothing to the
//    cluster, and stops cleanly on SIGTERM;
// 2. in auto mode the executor carries the plan out through the kube platform: revert-config of
//    a change the watch saw (server-side apply of the previous spec) is applied, judged by the
//    SLO probe (scripted here: the probe's metrics are Prometheus's job) and rolled back exactly;
//    the next action (delete of a VirtualService the watch saw created) is applied and kept.
//    What the server received is asserted request by request.

const fixtures = fileURLToPath(new URL('../../../test/kube/fixtures/', import.meta.url));
const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');
let api: RecordedApiServer;
let dir: string;
const children: number[] = [];

before(async () => {
  api = await startRecordedApiServer('127.10.40.6');
  dir = mkdtempSync(join(tmpdir(), 'mm-kube-controller-'));
});
after(async () => {
  for (const pid of children) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function until(what: string, ok: () => boolean, ms = 20_000, step?: () => void): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    assert.ok(Date.now() < deadline, `${what} (within ${ms} ms)`);
    step?.();
    await new Promise((r) => setTimeout(r, 20));
  }
}

const writes = (from: number) => api.requests.slice(from).filter((q) => q.method !== 'GET');
const ratings = () => api.objects('virtualservices').find((o) => o.metadata.name === 'ratings')!;

function breakRatings(): Record<string, any> {
  const original = structuredClone(ratings());
  const broken = structuredClone(original);
  broken.spec.http[0].route[0].destination.subset = 'v9';
  api.put('virtualservices', broken);
  return original;
}

test('controller (manual): watches, records the history, proposes, writes nothing, stops on SIGTERM', { timeout: 60_000 }, async () => {
  const home = join(dir, 'manual');
  const settings = join(dir, 'recovery.yaml');
  writeFileSync(settings, 'stableCauseMs: 0\n');
  const mark = api.requests.length;
  const child = spawn(process.execPath, [cli, 'controller', '--platform', 'kube', '--kubeconfig', api.kubeconfig, '--causes', join(fixtures, 'causes-config.json'), '--interval', '1s', '--settings', settings], {
    env: { ...process.env, MESHMEDIC_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child.pid!);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  await until('the controller watches', () => /controller: running/.test(stderr));
  const original = breakRatings();
  await until('proposals are recorded', () => /a\d+ proposed \(shift-traffic\)/.test(stderr));
  // The watch saw the change: the history has ratings' previous spec.
  await until('the change is in the history', () => {
    const h = new ConfigHistory(join(home, 'meshmedic.db'), api.url);
    try {
      return h.versionsOf('VirtualService', 'bookinfo', 'ratings').length === 2;
    } finally {
      h.close();
    }
  });
  child.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
  assert.deepEqual(writes(mark), [], 'manual mode writes nothing to the cluster');
  const audit = new AuditLog(join(home, 'meshmedic.db'), { readonly: true });
  const actions = audit.list();
  audit.close();
  assert.ok(actions.length >= 3, stderr);
  assert.ok(actions.every((a) => a.mode === 'manual' && (a.state === 'proposed' || a.state === 'rejected')));
  assert.ok(actions.some((a) => a.kind === 'shift-traffic') && actions.some((a) => a.kind === 'failover-external'));
  api.put('virtualservices', original);
  // A usage error is one line.
  const usage = spawn(process.execPath, [cli, 'controller', '--platform', 'kube', '--kubeconfig', api.kubeconfig], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  usage.stderr.on('data', (d) => (err += d));
  assert.equal(await new Promise((r) => usage.on('close', r)), 64);
  assert.match(err, /^Error: controller needs causes: --prometheus URL \(diagnose\) or --causes FILE/);
});

test('controller (auto): the executor applies through the kube platform, rolls back, tries the next action', { timeout: 60_000 }, async () => {
  const clock = new ManualClock(Date.now());
  const c = new KubeClient(loadKubeConfig({ kubeconfig: api.kubeconfig }));
  // The SLO probe: the SLO fails before each action and after the first, holds after the second.
  let calls = 0;
  const probe: SloProbe = {
    measure: async (_w, at) => {
      calls++;
      const healthy = calls === 4;
      return { at, errorRatio: healthy ? 0 : 0.4, p99Ms: 20, rps: 10, healthy, failing: healthy ? [] : [{ check: 'error-ratio', subject: 'service ratings.bookinfo', namespace: 'bookinfo', value: 0.4, threshold: 0.05, window: '5s', at }] };
    },
  };
  const causes = (JSON.parse((await import('node:fs')).readFileSync(join(fixtures, 'causes-revert.json'), 'utf8')) as { causes: RankedCause[] }).causes;
  const controller = new KubeController(c, {
    databaseFile: join(dir, 'auto.db'), causes, auto: true, intervalMs: 1000, clock, probe,
    settings: { ...DEFAULT_SETTINGS, stableCauseMs: 0, verifyWindowMs: 1000 },
  });
  try {
    await controller.start();
    // What the watch sees: ratings changed, ratings-mirror created.
    const original = breakRatings();
    const broken = structuredClone(ratings());
    api.put('virtualservices', { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'ratings-mirror', namespace: 'bookinfo' }, spec: { hosts: ['ratings'], http: [{ route: [{ destination: { host: 'ratings', subset: 'v1' } }], mirror: { host: 'ratings', subset: 'v1' } }] } });
    await until('the watch records both', () => controller.history!.changes().length === 2);
    const mark = api.requests.length;
    await controller.tick();
    // Time moves only here: the verification windows pass on the manual clock.
    await until('an action is verified', () => controller.audit.list().some((a) => a.state === 'verified'), 20_000, () => clock.advance(500));
    await controller.idle();

    const sent = writes(mark).map((q) => ({ ...q, name: q.path.split('/').pop() }));
    assert.deepEqual(sent.map((q) => `${q.method} ${q.name}`), ['PATCH ratings', 'PATCH ratings', 'DELETE ratings-mirror']);
    const [apply, undo] = sent;
    const [first, second] = controller.audit.list().filter((a) => a.kind === 'revert-config').sort((a, b) => a.position - b.position);
    // 1: the previous spec, server-side applied by meshmedic, labelled with the action; the SLO
    // did not hold, so the spec it replaced went back, unlabelled.
    assert.deepEqual([apply.contentType, apply.query.fieldManager, apply.query.force], ['application/apply-patch+yaml', 'meshmedic', 'true']);
    assert.deepEqual(apply.body!.spec, original.spec);
    assert.equal(apply.body!.metadata.labels[ACTION_LABEL], first.id);
    assert.deepEqual(undo.body!.spec, broken.spec);
    assert.equal(undo.body!.metadata.labels?.[ACTION_LABEL], undefined);
    assert.equal(first.state, 'rolled-back');
    // 2: the VirtualService the watch saw created is deleted, and kept.
    assert.equal(second.state, 'verified');
    assert.ok(!api.objects('virtualservices').some((o) => o.metadata.name === 'ratings-mirror'));
    assert.deepEqual(controller.audit.trail(first.id).map((e) => e.state), ['proposed', 'applying', 'verifying', 'rolled-back']);
    // The controller's own watch saw its writes: they are in the history too.
    assert.ok(controller.history!.changes().length >= 5);
    api.put('virtualservices', original);
  } finally {
    await controller.stop();
  }
});
