import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { runCli } from '../cli/helpers.js';
import { meshHome } from './mesh-home.js';

// Online Boutique's 11 services on the local mesh: gRPC-style services, and the cart's Redis
// over plain TCP through the sidecars (a TCP readiness probe gates it).

const mesh = meshHome('boutique', '127.12');
const { env } = mesh;

after(() => {
  mesh.teardown();
});

interface Call {
  service: string;
  status: number;
  error?: string;
  body?: { calls?: Call[] };
}

function flatten(calls: Call[], out: Call[] = []): Call[] {
  for (const c of calls) {
    out.push(c);
    if (c.body?.calls) flatten(c.body.calls, out);
  }
  return out;
}

test('boutique: the frontend page reaches every backend it calls, Redis over TCP included', async () => {
  const up = runCli(['up', '-f', 'examples/boutique', '--timeout', '90'], undefined, env);
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const status = JSON.parse(runCli(['status', '-o', 'json'], undefined, env).stdout) as { instances: Array<{ name: string; address: string; healthy: boolean }> };
  assert.equal(status.instances.length, 11);
  assert.ok(status.instances.every((i) => i.healthy));
  const frontend = status.instances.find((i) => i.name === 'frontend-v1-0')!;
  const res = await request(`http://${frontend.address}:8080/`);
  assert.equal(res.statusCode, 200);
  const page = (await res.body.json()) as { calls: Call[] };
  const calls = flatten(page.calls);
  assert.deepEqual(calls.filter((c) => c.status !== 200 || c.error), []);
  const reached = new Set(calls.map((c) => c.service));
  for (const s of ['currencyservice', 'productcatalogservice', 'cartservice', 'redis-cart']) assert.ok(reached.has(s), `${s} not reached: ${[...reached]}`);
});
