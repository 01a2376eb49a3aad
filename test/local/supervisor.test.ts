import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Supervisor } from '../../src/platform/local/supervisor.js';
import { isAlive } from '../../src/platform/local/state-dir.js';
import { AddressAllocator } from '../../src/platform/local/addresses.js';

const dir = mkdtempSync(join(tmpdir(), 'meshmedic-sup-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const node = (name: string, code: string) => ({ name, command: process.execPath, args: ['-e', code], env: { GREETING: 'hi' }, logFile: join(dir, `${name}.log`) });

/** Resolves when `predicate` holds after an event; events drive the test, not sleeps. */
function waitFor<T>(register: (done: (v: T) => void) => void): Promise<T> {
  return new Promise((resolve) => register(resolve));
}

test('a crashed process is restarted, its output goes to its log, stop kills it', async () => {
  const timers: Array<() => void> = [];
  let onStart: (name: string, pid: number) => void = () => {};
  let onExit: (name: string, code: number | null) => void = () => {};
  const sup = new Supervisor({
    onStart: (n, pid) => onStart(n, pid),
    onExit: (n, code) => onExit(n, code),
    setTimer: (fn) => (timers.push(fn), {}),
  });
  const firstPid = await waitFor<number>((done) => {
    onStart = (_n, pid) => done(pid);
    sup.start(node('crashy', 'console.log(process.env.GREETING); setTimeout(() => process.exit(3), 50)'));
  });
  const code = await waitFor<number | null>((done) => (onExit = (_n, c) => done(c)));
  assert.equal(code, 3);
  assert.equal(sup.list()[0].state, 'backoff');
  assert.equal(timers.length, 1); // a restart is scheduled, with backoff
  const secondPid = await waitFor<number>((done) => {
    onStart = (_n, pid) => done(pid);
    timers.shift()!();
  });
  assert.notEqual(secondPid, firstPid);
  assert.equal(sup.list()[0].restarts, 1);
  await sup.stopAll();
  assert.equal(isAlive(secondPid), false);
  assert.match(readFileSync(join(dir, 'crashy.log'), 'utf8'), /^hi\n/); // the first run's output, with its env
});

test('stop escalates to SIGKILL for a process that ignores SIGTERM', async () => {
  let started: (pid: number) => void = () => {};
  const sup = new Supervisor({ restart: false, onStart: (_n, pid) => started(pid) });
  const pid = await waitFor<number>((done) => {
    started = done;
    sup.start(node('stubborn', 'process.on("SIGTERM", () => {}); console.log("up"); setInterval(() => {}, 1000)'));
  });
  await sup.stop('stubborn', 200);
  assert.equal(isAlive(pid), false);
  assert.deepEqual(sup.list(), []);
});

test('addresses are stable per name and unique', () => {
  const a = new AddressAllocator();
  const x = a.allocate('bookinfo/reviews-v1-0');
  const y = a.allocate('bookinfo/reviews-v2-0');
  assert.match(x, /^127\.10\.\d+\.\d+$/);
  assert.notEqual(x, y);
  assert.equal(a.allocate('bookinfo/reviews-v1-0'), x);
});
