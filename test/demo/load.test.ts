import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LoadGenerator } from '../../src/demo/load.js';

// The demo's load generator against a real HTTP server on loopback: it counts what users saw,
// by second, and stops by itself at its bounds.

async function server(answer: (n: number) => { status: number; body: string }) {
  let n = 0;
  const srv = createServer((_req, res) => {
    const a = answer(n++);
    res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { origin: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, close: () => new Promise<void>((r) => srv.close(() => r())), count: () => n };
}

test('counts failed and degraded pages, and stops at maxRequests', async () => {
  const s = await server((n) => (n % 4 === 1 ? { status: 503, body: 'no healthy upstream' } : n % 4 === 2 ? { status: 200, body: JSON.stringify({ calls: [{ service: 'details', fallback: 'Sorry' }] }) } : { status: 200, body: '{"calls":[]}' }));
  const load = new LoadGenerator({ origin: s.origin, path: '/productpage', rps: 200, maxDurationMs: 10_000, maxRequests: 40, seed: 7 }).start();
  const deadline = Date.now() + 10_000;
  while (load.running && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await load.close();
  await s.close();
  const stats = load.snapshot();
  assert.equal(stats.sent, 40);
  assert.equal(s.count(), 40);
  assert.equal(stats.failed, 20, JSON.stringify(stats));
  assert.deepEqual(stats.reasons, { '503': 10, 'degraded (details)': 10 });
  const total = load.buckets.reduce((a, b) => a + b.total, 0);
  const failed = load.buckets.reduce((a, b) => a + b.failed, 0);
  assert.deepEqual([total, failed, load.buckets.every((b) => b.pending === 0)], [40, 20, true]);
});

test('stops by itself after maxDurationMs', async () => {
  const s = await server(() => ({ status: 200, body: '{}' }));
  const load = new LoadGenerator({ origin: s.origin, path: '/', rps: 50, maxDurationMs: 300, maxRequests: 1_000_000 }).start();
  const deadline = Date.now() + 5000;
  while (load.running && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(load.running, false);
  await load.close();
  await s.close();
  assert.ok(load.snapshot().sent > 3 && load.snapshot().sent < 40, `sent ${load.snapshot().sent}`);
});

test('a burst sends its requests together, at the same average rate', async () => {
  // The server answers only once four requests wait at once. One at a time at 1 rps the fourth
  // comes >= 1.5 s after the first, past its 1 s timeout; in a burst of four they all wait together.
  const held: Array<() => void> = [];
  const srv = createServer((_req, res) => {
    held.push(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"calls":[]}'));
    if (held.length >= 4) for (const answer of held.splice(0)) answer();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  const load = new LoadGenerator({ origin, path: '/', rps: 1, burst: 4, maxDurationMs: 10_000, maxRequests: 4, timeoutMs: 1000, seed: 3 }).start();
  await load.close();
  srv.closeAllConnections();
  await new Promise<void>((r) => srv.close(() => r()));
  assert.deepEqual([load.snapshot().sent, load.snapshot().failed], [4, 0], JSON.stringify(load.snapshot()));
});

test('refuses targets off loopback', () => {
  assert.throws(() => new LoadGenerator({ origin: 'http://10.0.0.1:80', path: '/', rps: 1, maxDurationMs: 1, maxRequests: 1 }), /loopback/);
});
