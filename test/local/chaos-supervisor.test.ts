import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive } from '../../src/platform/local/state-dir.js';
import { Supervisor } from '../../src/platform/local/supervisor.js';

// What chaos and recovery ask of the supervisor: hold a process down (a crash that lasts), let
// it come back, restart it at once. Real processes; events drive the test.

const dir = mkdtempSync(join(tmpdir(), 'meshmedic-hold-'));
const sup = new Supervisor({ baseBackoffMs: 10 });
after(async () => {
  await sup.stopAll(500);
  rmSync(dir, { recursive: true, force: true });
});

const spec = (name: string) => ({ name, command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'], env: {}, logFile: join(dir, `${name}.log`) });

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(check(), 'condition not met within 10 s');
}

test('a held process is killed and not restarted until released; release starts it again', async () => {
  sup.start(spec('app'));
  await until(() => sup.pid('app') !== undefined);
  const first = sup.pid('app')!;
  assert.equal(await sup.hold('app'), true);
  assert.equal(isAlive(first), false);
  assert.deepEqual([sup.list()[0].state, sup.pid('app')], ['held', undefined]);
  assert.equal(sup.list()[0].lastExit?.signal, 'SIGKILL');
  // Backoff is 10 ms: had it been restarted, it would be running by now.
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(sup.list()[0].state, 'held');
  assert.equal(sup.release('app'), true);
  await until(() => sup.pid('app') !== undefined);
  assert.notEqual(sup.pid('app'), first);
  assert.deepEqual([sup.list()[0].state, sup.list()[0].restarts], ['running', 1]);
  assert.equal(sup.release('app'), false, 'releasing a process that is not held does nothing');
  assert.equal(await sup.hold('nope'), false);
});

test('a held process that crashed earlier stays down, and stop() of a held process completes', async () => {
  sup.start(spec('other'));
  await until(() => sup.pid('other') !== undefined);
  sup.kill('other'); // a crash: a restart is scheduled after backoff
  await sup.hold('other');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(sup.pid('other'), undefined);
  await sup.stop('other');
  assert.equal(sup.list().some((p) => p.name === 'other'), false);
});

test('a restart of a hung (SIGSTOPped) process completes: SIGTERM comes with SIGCONT, SIGKILL after the grace', async () => {
  sup.start(spec('hung'));
  await until(() => sup.pid('hung') !== undefined);
  const pid = sup.pid('hung')!;
  process.kill(pid, 'SIGSTOP');
  await sup.hold('hung', 'SIGTERM', 5000);
  assert.equal(isAlive(pid), false);
  assert.equal(sup.list().find((p) => p.name === 'hung')?.lastExit?.signal, 'SIGTERM', 'continued, it acted on SIGTERM');
  sup.release('hung');
  await until(() => sup.pid('hung') !== undefined);

  // One that ignores SIGTERM is killed once the grace is over.
  sup.start({ ...spec('stubborn'), args: ['-e', "process.on('SIGTERM', () => {}); console.log('trapped'); setInterval(() => {}, 1000)"] });
  await until(() => sup.pid('stubborn') !== undefined);
  const stubborn = sup.pid('stubborn')!;
  await until(() => existsSync(join(dir, 'stubborn.log')) && readFileSync(join(dir, 'stubborn.log'), 'utf8').includes('trapped'));
  process.kill(stubborn, 'SIGSTOP');
  await sup.hold('stubborn', 'SIGTERM', 200);
  assert.equal(isAlive(stubborn), false);
  assert.equal(sup.list().find((p) => p.name === 'stubborn')?.lastExit?.signal, 'SIGKILL');
});
