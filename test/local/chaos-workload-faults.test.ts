import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkloadSpec } from '../../src/platform/local/workload/spec.js';

// The synthetic application's fault control channel, on a real workload process: faults put in
// force and taken away over its unix socket, and what its answers look like meanwhile.

const MAIN = new URL('../../src/platform/local/workload/main.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'mm-wlf-'));
const control = join(dir, 'control.sock');
const http = join(dir, 'http.sock');
const grpc = join(dir, 'grpc.sock');
let child: ChildProcess;

const spec: WorkloadSpec = {
  service: 'api', namespace: 'shop', version: 'v1', workload: 'api-v1', instance: 'api-v1-0', serviceAccount: 'default',
  ports: [{ name: 'http', port: 8080, protocol: 'http', socketPath: http }, { name: 'grpc', port: 9090, protocol: 'grpc', socketPath: grpc }],
  errorRate: 0, responseSize: 0, script: [], seed: 7, controlSocket: control,
};

function call(socketPath: string, method: string, path: string, body?: unknown): Promise<{ status: number; headers: Record<string, unknown>; body: any; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = request({ socketPath, method, path, headers: text ? { 'content-type': 'application/json' } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(Buffer.concat(chunks).toString() || 'null'), ms: performance.now() - started }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

/** CPU time (user + system) of a process in ms, from /proc. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

before(async () => {
  child = spawn(process.execPath, [MAIN], { env: { ...process.env, MESH_WORKLOAD_SPEC: JSON.stringify(spec), MESH_OUTBOUND_PROXY: 'http://127.10.112.1:15001' }, stdio: ['ignore', 'pipe', 'inherit'] });
  await once(child.stdout!, 'data'); // the `listening` line
});

after(async () => {
  if (child.exitCode === null) {
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
  rmSync(dir, { recursive: true, force: true });
});

test('no faults at start; errors and latency while set; nothing once the set is empty', async () => {
  assert.deepEqual((await call(control, 'GET', '/faults')).body, { faults: {} });
  assert.equal((await call(http, 'GET', '/')).status, 200);

  const set = await call(control, 'PUT', '/faults', { faults: { c1: { error: { status: 503, percent: 100 } }, c2: { latency: { ms: 300, percent: 100 } } } });
  assert.equal(set.status, 200);
  const failed = await call(http, 'GET', '/');
  assert.equal(failed.status, 503);
  assert.equal(failed.body.error, 'injected failure (chaos, status 503)');
  assert.ok(failed.ms >= 300, `the added latency applies before the error (${failed.ms} ms)`);
  const g = await call(grpc, 'GET', '/');
  assert.deepEqual([g.status, g.headers['grpc-status']], [200, '13']);
  assert.equal((await call(http, 'GET', '/healthz')).status, 200, 'readiness is not affected');

  await call(control, 'PUT', '/faults', { faults: { c2: { latency: { ms: 300, percent: 100 } } } });
  const slow = await call(http, 'GET', '/');
  assert.equal(slow.status, 200);
  assert.ok(slow.ms >= 300, `${slow.ms} ms`);

  await call(control, 'PUT', '/faults', { faults: {} });
  assert.deepEqual((await call(control, 'GET', '/faults')).body, { faults: {} });
  assert.equal((await call(http, 'GET', '/')).status, 200);
});

test('a share of requests: 30% errors over 200 requests, drawn from the instance seed', async () => {
  await call(control, 'PUT', '/faults', { faults: { c3: { error: { status: 500, percent: 30 } } } });
  let errors = 0;
  for (let i = 0; i < 200; i++) if ((await call(http, 'GET', '/')).status === 500) errors++;
  await call(control, 'PUT', '/faults', { faults: {} });
  assert.ok(errors > 30 && errors < 90, `${errors} of 200 failed`);
});

test('cpu burn keeps the process busy until cleared', async () => {
  await call(control, 'PUT', '/faults', { faults: { c4: { cpu: { percent: 90 } } } });
  const start = cpuMs(child.pid!);
  // Waits on the condition (bounded), not on time: the process must have spent 400 ms of CPU.
  const deadline = Date.now() + 10_000;
  while (cpuMs(child.pid!) - start < 400 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(cpuMs(child.pid!) - start >= 400, `only ${cpuMs(child.pid!) - start} ms of CPU`);
  assert.equal((await call(http, 'GET', '/')).status, 200, 'a busy process still answers');
  await call(control, 'PUT', '/faults', { faults: {} });
  assert.deepEqual((await call(control, 'GET', '/faults')).body, { faults: {} });
});

test('bad fault sets are refused whole, and the set in force stays', async () => {
  await call(control, 'PUT', '/faults', { faults: { c5: { latency: { ms: 1, percent: 100 } } } });
  const bad = await call(control, 'PUT', '/faults', { faults: { c6: { error: { status: 200, percent: 100 } } } });
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.body.error, { code: 'E_BAD_FAULT', message: 'faults.c6.error.status must be a number within 400..599, got 200' });
  assert.deepEqual((await call(control, 'GET', '/faults')).body, { faults: { c5: { latency: { ms: 1, percent: 100 } } } });
  assert.equal((await call(control, 'POST', '/faults', {})).status, 405);
  await call(control, 'PUT', '/faults', { faults: {} });
});
