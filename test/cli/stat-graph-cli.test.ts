import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { StateDir } from '../../src/platform/local/state-dir.js';
import { runCli } from './helpers.js';

// `meshmedic stat` and `meshmedic graph` as a user runs them, against a control plane (its own
// process) whose store holds known traffic (test/telemetry/graph-fixture.ts) at a fixed time:
// tables, wide and structured output, DOT, watch mode, usage errors and exit codes.

const here = dirname(fileURLToPath(import.meta.url));
const serverScript = join(here, '..', 'telemetry', 'graph-fixture-server.js');
const cliScript = join(here, '..', '..', 'src', 'cli', 'main.js');
const home = mkdtempSync(join(tmpdir(), 'mm-stat-cli-'));
const emptyHome = mkdtempSync(join(tmpdir(), 'mm-stat-cli-empty-'));
let server: ChildProcess | undefined;

const cli = (...args: string[]) => runCli([...args, '--state-dir', home]);

before(async () => {
  server = spawn(process.execPath, [serverScript, '127.10.121.1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const first = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: server!.stdout! });
    lines.once('line', resolve);
    server!.once('exit', (code) => reject(new Error(`fixture server exited with ${code}`)));
  });
  const { url } = JSON.parse(first) as { url: string };
  new StateDir(home).saveControlPlane({ pid: server.pid!, url, startedAt: new Date().toISOString() });
});

after(() => {
  if (server?.pid && server.exitCode === null) process.kill(server.pid, 'SIGKILL');
  rmSync(home, { recursive: true, force: true });
  rmSync(emptyHome, { recursive: true, force: true });
});

/** Rows of a printed table as arrays of cells (columns are separated by at least 3 spaces). */
function table(stdout: string): string[][] {
  return stdout.trimEnd().split('\n').map((l) => l.trim().split(/\s{3,}/));
}

describe('meshmedic stat', { timeout: 120_000 }, () => {
  test('lists every service of every namespace with success, rps, latency quantiles and health', () => {
    const r = cli('stat');
    assert.equal(r.code, 0, r.stderr);
    const rows = table(r.stdout);
    assert.deepEqual(rows[0], ['NAMESPACE', 'NAME', 'SUCCESS', 'RPS', 'LATENCY_P50', 'LATENCY_P95', 'LATENCY_P99', 'HEALTH']);
    assert.deepEqual(rows.slice(1), [
      ['pay', 'payments', '90.00%', '10.0rps', '3ms', '4.8ms', '5ms', 'Failure'],
      ['shop', 'cart', '60.00%', '10.0rps', '18ms', '44ms', '49ms', 'Failure'],
      ['shop', 'catalog', '-', '-', '-', '-', '-', 'NA'],
      ['shop', 'db', '-', '-', '-', '-', '-', 'NA'],
      ['shop', 'frontend', '100.00%', '11.0rps', '7.5ms', '9.8ms', '9.9ms', 'Healthy'],
    ]);
  });

  test('workloads in one namespace (no NAMESPACE column), wide columns, one name', () => {
    const w = cli('stat', 'workload', '-n', 'shop');
    assert.equal(w.code, 0, w.stderr);
    const rows = table(w.stdout);
    assert.deepEqual(rows[0], ['NAME', 'VERSION', 'SUCCESS', 'RPS', 'LATENCY_P50', 'LATENCY_P95', 'LATENCY_P99', 'HEALTH']);
    assert.deepEqual(rows.slice(1).map((r) => `${r[0]} ${r[2]} ${r.at(-1)}`), ['cart-v1 100.00% Healthy', 'cart-v2 0.00% Failure', 'catalog-v1 - NA', 'db-v1 - NA', 'frontend-v1 100.00% Failure']);

    const wide = cli('stat', 'svc', 'cart', '-o', 'wide');
    assert.equal(wide.code, 0, wide.stderr);
    const [header, cart] = table(wide.stdout);
    assert.deepEqual(header, ['NAMESPACE', 'NAME', 'SUCCESS', 'RPS', 'LATENCY_P50', 'LATENCY_P95', 'LATENCY_P99', 'REQUESTS', '4XX', '5XX', 'FLAGS', 'MTLS', 'TCP', 'HEALTH']);
    assert.deepEqual(cart, ['shop', 'cart', '60.00%', '10.0rps', '18ms', '44ms', '49ms', '600', '0.00%', '40.00%', 'UH:120', '75.00%', '-', 'Failure']);
  });

  test('-o json and yaml give the rows with exact figures', () => {
    const r = cli('stat', 'service', '-n', 'pay', '-o', 'json');
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as Array<{ name: string; successRatio: number; grpcErrorRatio: number; requests: number; health: string }>;
    assert.deepEqual(rows.map((x) => [x.name, x.requests, x.health]), [['payments', 600, 'Failure']]);
    assert.ok(Math.abs(rows[0].grpcErrorRatio - 0.1) < 1e-9);
    const y = cli('stat', 'service', 'frontend', '-o', 'yaml');
    assert.equal(y.code, 0, y.stderr);
    assert.match(y.stdout, /^- rps: 11/m);
    assert.match(y.stdout, /health: Healthy/);
  });

  test('-w refreshes: --count bounds it; Ctrl-C ends it with exit 0 and no stack trace', async () => {
    const r = cli('stat', '-w', '--count', '2', '--interval', '100ms');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.match(/^NAMESPACE\s+NAME/gm)?.length, 2);

    const child = spawn(process.execPath, [cliScript, 'stat', '-w', '--interval', '200ms', '--state-dir', home], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    await new Promise<void>((resolve) =>
      child.stdout!.on('data', (d) => {
        out += d;
        if ((out.match(/frontend/g)?.length ?? 0) >= 2) resolve();
      }),
    );
    const code = await new Promise<number | null>((resolve) => {
      child.once('exit', (c) => resolve(c));
      child.kill('SIGINT');
    });
    assert.equal(code, 0, err);
    assert.doesNotMatch(err, /\n\s+at /);
  });

  test('usage errors exit 64; an unknown name exits 1; no mesh exits 1', () => {
    const kind = cli('stat', 'pods');
    assert.equal(kind.code, 64);
    assert.match(kind.stderr, /"pods" is not a kind stat knows \(service or workload\); to name a service: meshmedic stat service pods/);
    for (const args of [['stat', '--window', 'soon'], ['stat', '-o', 'xml'], ['stat', '--count', '2'], ['stat', '-w', '--interval', '1ms'], ['stat', '-n', 'Bad_NS'], ['stat', '-n', 'shop', '-A']]) {
      const r = cli(...args);
      assert.equal(r.code, 64, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^Error: /);
    }
    const missing = cli('stat', 'service', 'nosuch');
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'Error: service "nosuch" has no Istio metrics [E_NOT_FOUND]\n');
    const none = runCli(['stat', '--state-dir', emptyHome]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no mesh is running/);
  });
});

describe('meshmedic graph', { timeout: 120_000 }, () => {
  test('the default output lists edges with rps, errors, latency, flags, mTLS and health', () => {
    const r = cli('graph', '-n', 'shop');
    assert.equal(r.code, 0, r.stderr);
    const rows = table(r.stdout);
    assert.deepEqual(rows[0], ['SOURCE', 'DESTINATION', 'PROTOCOL', 'RPS', 'ERRORS', 'P50', 'P99', 'FLAGS', 'MTLS', 'HEALTH']);
    assert.ok(rows.some((x) => x.join('|') === 'wl/frontend-v1.shop|svc/cart.shop|http|10.0|40.0%|18ms|49ms|UH:120|75.0%|Failure'), r.stdout);
    assert.ok(rows.some((x) => x.join('|') === 'wl/frontend-v1.shop|svc/payments.pay|grpc|10.0|10.0%|3ms|5ms|-|0%|Failure'), r.stdout);
  });

  test('-o json gives nodes and edges; --level picks the level', () => {
    const r = cli('graph', '--level', 'service', '-o', 'json');
    assert.equal(r.code, 0, r.stderr);
    const g = JSON.parse(r.stdout) as { level: string; nodes: Array<{ id: string }>; edges: Array<{ source: string; target: string; rps: number }> };
    assert.equal(g.level, 'service');
    const e = g.edges.find((x) => x.source === 'svc:frontend.shop.svc.cluster.local' && x.target === 'svc:cart.shop.svc.cluster.local');
    assert.ok(e && Math.abs(e.rps - 10) < 1e-9);
    assert.ok(g.nodes.every((n) => n.id.startsWith('svc:') || n.id === 'unknown'));
  });

  test('-o dot is a Graphviz digraph with labelled, health-coloured edges', () => {
    const r = cli('graph', '--level', 'service', '-o', 'dot');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^digraph meshmedic \{\n/);
    assert.match(r.stdout, /\n\}\n$/);
    assert.ok(r.stdout.includes('"svc:frontend.shop.svc.cluster.local" -> "svc:cart.shop.svc.cluster.local" [label="10.0 rps\\n40.0% err\\np99 49ms\\nUH", color="#c9190b"];'), r.stdout);
    assert.ok(r.stdout.includes('"svc:cart.shop.svc.cluster.local" [label="cart\\nshop", shape=box, style="rounded", color="#c9190b"];'), r.stdout);
  });

  test('bad flags exit 64', () => {
    for (const args of [['graph', '--level', 'pods'], ['graph', '-o', 'svg'], ['graph', '--window', '0s']]) {
      const r = cli(...args);
      assert.equal(r.code, 64, `${args.join(' ')}: ${r.stderr}`);
    }
  });
});
