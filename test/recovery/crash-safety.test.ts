import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IncidentStore } from '../../src/diagnosis/incidents/incident-store.js';
import { AuditLog } from '../../src/recovery/audit-log.js';
import type { RecoveryAction } from '../../src/recovery/model.js';
import { isAlive, StateDir } from '../../src/platform/local/state-dir.js';

// Crash safety with a real control plane process (`meshmedic controlplane`, as the mesh daemon
// runs it; no applications, so every instance is unready): an action is applied and the
// process is killed (SIGKILL) in the middle of its verification. Restarted on the same state
// directory, the control plane puts the quarantine back from the audit log at once and goes on
// verifying for what remained of the window (at least one SLO window of fresh metrics), and
// judges at its end (here: no traffic at all, so nothing proves the SLO holds: rolled back). An
// action the log shows caught `applying` (the process died between the log and the change) is
// rolled back on restart. Instance addresses in 127.24.0.0/16.

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');
const TOPOLOGY = `
defaults:
  namespace: shop
services:
- name: front
  isEntrypoint: true
  script:
  - call: api
- name: api
  numReplicas: 2
`;

const home = mkdtempSync(join(tmpdir(), 'mm-recovery-crash-'));
const state = new StateDir(home);
const db = join(home, 'meshmedic.db');
const children: ChildProcess[] = [];

after(() => {
  for (const c of children) if (c.pid && isAlive(c.pid)) process.kill(c.pid, 'SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function until<T>(what: string, probe: () => Promise<T> | T, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${ms} ms; last: ${JSON.stringify(v)?.slice(0, 400)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startControlPlane(port: number, previousPid?: number): Promise<{ url: string; token?: string; pid: number }> {
  const child = spawn(process.execPath, [CLI, 'controlplane', '--state-dir', home, '--port', String(port), join(home, 'topology.yaml')], {
    env: { ...process.env, MESHMEDIC_ADDRESS_BASE: '127.24' }, stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  const rec = await until('the control plane is up', () => state.liveControlPlane(), (r) => r !== undefined && r.pid === child.pid && r.pid !== previousPid);
  return { url: rec!.url, token: rec!.token, pid: child.pid! };
}

async function api<T = any>(cp: { url: string; token?: string }, path: string, method = 'GET', body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${cp.url}${path}`, { method, headers: { ...(cp.token && { authorization: `Bearer ${cp.token}` }), ...(body !== undefined && { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as T };
}

describe('crash safety: a control plane killed mid-verification resumes from the audit log', { timeout: 90_000 }, () => {
  test('killed while verifying: the quarantine is back at once and the verification goes on; an action caught applying is rolled back', async () => {
    writeFileSync(join(home, 'topology.yaml'), TOPOLOGY);
    writeFileSync(join(home, 'recovery.yaml'), 'verifyWindowMs: 8000\n');
    // An open incident blaming one api instance, as detection would have left it.
    const now = Date.now();
    const incidents = new IncidentStore(db);
    incidents.insert({
      id: 'i1', status: 'open', namespace: 'shop', subject: 'service api.shop', openedAt: now, onsetAt: now - 3000,
      detections: [{ check: 'error-ratio', subject: 'service api.shop', namespace: 'shop', value: 0.5, threshold: 0.02, window: '5s', at: now }],
      causes: [], timeline: [{ at: now, kind: 'opened', text: 'opened' }],
    });
    incidents.saveCauses('i1', [{ target: { kind: 'instance', namespace: 'shop', service: 'api', workload: 'api-v1', instance: 'api-v1-1' }, mechanism: 'errors', score: 0.9, summary: 'api-v1-1 answers errors', evidence: [] }], now);
    incidents.close();

    const port = await freePort();
    const first = await startControlPlane(port);
    const run = await api<{ actions: RecoveryAction[] }>(first, '/api/v1/recovery/run', 'POST', { namespace: 'shop' });
    assert.equal(run.status, 202, JSON.stringify(run.body));
    const [a1] = run.body.actions;
    assert.deepEqual([a1.id, a1.kind, a1.state], ['a1', 'quarantine-instance', 'verifying']);
    assert.deepEqual((await api(first, '/api/v1/recovery/status')).body.quarantined, [{ namespace: 'shop', name: 'api-v1-1' }]);

    process.kill(first.pid, 'SIGKILL');
    await until('the first control plane is gone', () => isAlive(first.pid), (alive) => !alive);
    const log = new AuditLog(db);
    assert.equal(log.get('a1')!.state, 'verifying', 'the log holds the action in flight');
    // As if a second action had been logged `applying` when the process died, before its change was made.
    const a2 = log.create({ ...a1, platform: [{ op: 'quarantine', namespace: 'shop', instance: 'api-v1-0' }], summary: 'quarantine api-v1-0', rejected: undefined }, { incidentId: 'i1', position: 2, state: 'proposed', mode: 'manual', at: Date.now() });
    log.save({ ...a2, state: 'applying', appliedAt: Date.now() }, Date.now(), 'applying: quarantine api-v1-0');
    log.close();

    const second = await startControlPlane(port, first.pid);
    const resumed = await api<RecoveryAction>(second, '/api/v1/recovery/actions/a1');
    assert.equal(resumed.body.state, 'verifying', 'still verifying after the restart');
    assert.ok(resumed.body.resumedAt! > a1.appliedAt!);
    assert.ok(resumed.body.verifyUntil! >= resumed.body.resumedAt! + 6000, 'at least a window of fresh metrics after the restart');
    const q = (await api(second, '/api/v1/recovery/status')).body.quarantined;
    assert.deepEqual(q, [{ namespace: 'shop', name: 'api-v1-1' }], 'a1\'s quarantine is in force again; a2\'s was undone');
    const rolled = await until('a2 is rolled back', () => api<RecoveryAction>(second, '/api/v1/recovery/actions/a2'), (r) => r.body.state !== 'applying');
    assert.equal(rolled.body.state, 'rolled-back');
    assert.match(rolled.body.reason!, /stopped while applying it; undone on restart/);

    // Nothing calls the api here: with no traffic the SLO cannot be shown to hold, and the action is undone.
    const done = await until('a1 ends', () => api<RecoveryAction>(second, '/api/v1/recovery/actions/a1'), (r) => r.body.state !== 'verifying', 30_000);
    assert.equal(done.body.state, 'rolled-back', done.body.reason);
    assert.match(done.body.reason!, /no traffic in the window to judge by/);
    assert.ok(done.body.endedAt! >= resumed.body.verifyUntil!, 'judged at the end of the resumed window, not before');
    assert.deepEqual((await api(second, '/api/v1/recovery/status')).body.quarantined, [], 'the rollback lifted the quarantine');
    const inc = await api<{ timeline: Array<{ kind: string; text: string }> }>(second, '/api/v1/incidents/i1');
    assert.ok(inc.body.timeline.some((e) => e.kind === 'action-resumed' && /a1 resumed after a control plane restart/.test(e.text)), JSON.stringify(inc.body.timeline));
    process.kill(second.pid, 'SIGTERM');
    await until('the second control plane stops', () => isAlive(second.pid), (alive) => !alive);
    const trail = new AuditLog(db, { readonly: true });
    assert.deepEqual(trail.trail('a1').map((e) => e.state), ['proposed', 'applying', 'verifying', 'verifying', 'rolled-back']);
    trail.close();
  });
});
