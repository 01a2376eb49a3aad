import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAlive, StateDir } from '../../src/platform/local/state-dir.js';

// `meshmedic demo --headless -o json` as a user runs it: a real process that starts Bookinfo
// with auto-recovery (its own mesh, MESHMEDIC_ADDRESS_BASE 127.25, its own state directory),
// puts users' load on it, injects a bad version of reviews, and must print exactly one JSON
// object saying the injected culprit was named, an action was kept and users were served
// again, and exit 0. Bounded: the child is killed at the deadline, and whatever mesh process
// it leaves is killed by PID after.

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');
const home = mkdtempSync(join(tmpdir(), 'mm-e2e-demo-'));
const state = new StateDir(home);
let child: ChildProcess | undefined;

after(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  for (const rec of [state.mesh(), state.controlPlane()]) if (rec && isAlive(rec.pid)) process.kill(rec.pid, 'SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

function run(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, MESHMEDIC_ADDRESS_BASE: '127.25' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c) => (stdout += c));
    child.stderr!.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child!.kill('SIGINT'), timeoutMs); // the demo cleans up on SIGINT
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('demo --headless -o json: bad-version of reviews is named, rolled back by a kept action, users served again', { timeout: 300_000 }, async () => {
  const r = await run(['demo', '--headless', '-o', 'json', '--scenario', 'bad-version', '--state-dir', home], 240_000);
  const lines = r.stdout.trim().split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `stdout is one JSON object (exit ${r.code}):\n${r.stdout}\nstderr:\n${r.stderr}`);
  const out = JSON.parse(lines[0]);
  assert.deepEqual(Object.keys(out), ['scenario', 'injected', 'detectedMs', 'rootCause', 'actions', 'verified', 'mttrMs', 'failedRequests', 'totalRequests']);
  assert.equal(out.scenario, 'bad-version');
  assert.equal(out.injected.label, 'workload reviews-v4.bookinfo (bad version)');
  assert.equal(out.rootCause?.matchesInjected, true, `root cause: ${JSON.stringify(out.rootCause)}\n${r.stderr}`);
  assert.equal(out.rootCause.target.workload, 'reviews-v4');
  assert.equal(out.verified, true, r.stderr);
  assert.ok(out.actions.some((a: { state: string }) => a.state === 'verified'), JSON.stringify(out.actions));
  assert.ok(typeof out.detectedMs === 'number' && out.detectedMs < 30_000, `detectedMs ${out.detectedMs}`);
  assert.ok(typeof out.mttrMs === 'number' && out.mttrMs < 60_000, `mttrMs ${out.mttrMs}`);
  assert.ok(out.totalRequests > 0 && out.failedRequests <= out.totalRequests);
  assert.equal(r.code, 0, r.stderr);
  // The timeline went to stderr, step by step.
  for (const step of ['injected', 'detected', 'cause', 'action', 'restored']) assert.match(r.stderr, new RegExp(`\\] \\S+ ${step} `), `timeline step ${step}:\n${r.stderr}`);
  // It stopped what it started: no mesh left running in its state directory.
  assert.equal(state.liveMesh(), undefined, 'the demo stopped its mesh');
  assert.equal(existsSync(home), true, 'a state directory the user named is kept');
});
