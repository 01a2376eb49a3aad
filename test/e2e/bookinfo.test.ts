import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool, request } from 'undici';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { isAlive } from '../../src/platform/local/state-dir.js';
import { meshHome } from './mesh-home.js';

// The whole local mesh, as a user runs it: `meshmedic up -f examples/bookinfo` starts the
// control plane, six sidecars and six applications as processes; requests cross the sidecars;
// config changes and a control plane crash happen under steady load, and failures are counted.

const mesh = meshHome('bookinfo', '127.11');
const { home, env, state, cli } = mesh;

interface Page {
  service: string;
  calls: Array<{ service: string; status: number; error?: string; body?: { version: string; calls: Array<{ service: string; status: number; error?: string }> } }>;
}

let productpage: Pool;

/** Sends requests back to back on `concurrency` connections until stopped; counts what failed. */
function steadyLoad(concurrency: number, onPage: (p: Page) => void = () => {}) {
  let running = true;
  const counts = { ok: 0, failed: 0, errors: [] as string[] };
  const worker = async () => {
    while (running) {
      try {
        const res = await productpage.request({ method: 'GET', path: '/productpage' });
        const body = (await res.body.json()) as Page;
        // A page is good only when it is whole: no call fell back or failed on the way.
        const bad = res.statusCode !== 200 || body.calls.some((c) => c.status !== 200 || c.error || c.body?.calls.some((cc) => cc.status !== 200 || cc.error));
        if (bad) {
          counts.failed++;
          counts.errors.push(JSON.stringify(body).slice(0, 300));
        } else counts.ok++;
        onPage(body);
      } catch (e) {
        counts.failed++;
        counts.errors.push((e as Error).message);
      }
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  return { counts, stop: async () => ((running = false), await Promise.all(workers), counts) };
}

/** Retries a request until it answers 200 (config takes a moment to reach sidecars); returns the JSON body. */
async function eventually(send: () => Promise<{ statusCode: number; body: { json(): Promise<unknown>; dump(): Promise<void> } }>): Promise<any> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await send();
    if (res.statusCode === 200) return res.body.json();
    await res.body.dump();
    if (Date.now() > deadline) throw new Error(`still HTTP ${res.statusCode}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const reviewsVersion = (p: Page) => p.calls.find((c) => c.service === 'reviews')?.body?.version;

describe('bookinfo on the local mesh', () => {
  before(() => {
    const up = cli(['up', '-f', 'examples/bookinfo', '--timeout', '60']);
    assert.equal(up.code, 0, `up failed:\n${up.stdout}\n${up.stderr}`);
    const status = JSON.parse(cli(['status', '-o', 'json']).stdout) as { instances: Array<{ name: string; address: string }> };
    const pp = status.instances.find((i) => i.name === 'productpage-v1-0')!;
    productpage = new Pool(`http://${pp.address}:9080`, { connections: 8 });
  });

  after(async () => {
    await productpage?.close();
    mesh.teardown();
  });

  test('productpage is assembled from details, reviews and (v2/v3) ratings through the sidecars', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 30 && seen.size < 2; i++) {
      const res = await productpage.request({ method: 'GET', path: '/productpage', headers: i % 2 ? { 'end-user': 'jason' } : {} });
      const page = (await res.body.json()) as Page;
      assert.equal(res.statusCode, 200);
      assert.deepEqual(page.calls.map((c) => [c.service, c.status]), [['details', 200], ['reviews', 200]]);
      const reviews = page.calls[1].body!;
      seen.add(reviews.version);
      // Bookinfo's reviews v2 and v3 call ratings; v1 does not.
      assert.deepEqual(reviews.calls.map((c) => [c.service, c.status]), reviews.version === 'v1' ? [] : [['ratings', 200]]);
    }
    // The shipped VirtualService sends end-user jason to v2, everyone else to v1 (90%) or v3.
    assert.ok(seen.has('v2'), `versions seen: ${[...seen]}`);
  });

  test('a VirtualService sending all of reviews to v3 takes effect under load with zero failed requests', async () => {
    const vs = join(home, 'reviews-v3.yaml');
    writeFileSync(vs, 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews, namespace: bookinfo}\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v3}\n');
    let appliedAt = 0;
    let lastNonV3At = 0;
    const load = steadyLoad(4, (p) => {
      if (appliedAt && reviewsVersion(p) !== 'v3') lastNonV3At = performance.now();
    });
    await new Promise((r) => setTimeout(r, 500)); // traffic before the change
    const applied = cli(['apply', '-f', vs]);
    appliedAt = performance.now();
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /virtualservice\/reviews configured/);
    await new Promise((r) => setTimeout(r, 1500)); // traffic after the change
    const counts = await load.stop();
    assert.equal(counts.failed, 0, counts.errors.slice(0, 3).join('\n'));
    assert.ok(counts.ok > 20, `only ${counts.ok} requests`);
    const switchMs = lastNonV3At ? lastNonV3At - appliedAt : 0;
    // The figure for the "within 1 s"; printed, not asserted (no timing assertions in tests).
    console.log(`e2e: ${counts.ok} requests, 0 failed; last non-v3 answer ${switchMs.toFixed(0)} ms after apply returned`);
    const after = (await (await productpage.request({ method: 'GET', path: '/productpage' })).body.json()) as Page;
    assert.equal(reviewsVersion(after), 'v3');
  });

  test('killing the control plane under load fails no request; its restart resyncs the sidecars', async () => {
    const before = state.controlPlane()!;
    const load = steadyLoad(4);
    await new Promise((r) => setTimeout(r, 300));
    process.kill(before.pid, 'SIGKILL');
    // The mesh daemon restarts it on the same port; wait for the new one to report itself.
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const rec = state.controlPlane();
      if (rec && rec.pid !== before.pid && isAlive(rec.pid)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const restarted = state.controlPlane()!;
    assert.notEqual(restarted.pid, before.pid);
    assert.equal(restarted.url, before.url);
    const counts = await load.stop();
    assert.equal(counts.failed, 0, counts.errors.slice(0, 3).join('\n'));
    // Resync: every sidecar reconnects and acknowledges the restarted control plane's snapshot...
    let proxies: Array<{ status: string }> = [];
    while (Date.now() < deadline) {
      proxies = JSON.parse(cli(['proxy-status', '-o', 'json']).stdout) as Array<{ status: string }>;
      if (proxies.length === 6 && proxies.every((p) => p.status === 'SYNCED')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(proxies.map((p) => p.status), Array(6).fill('SYNCED'));
    // ...and the config applied before the crash survived it (reviews still all v3).
    const page = (await (await productpage.request({ method: 'GET', path: '/productpage' })).body.json()) as Page;
    assert.equal(reviewsVersion(page), 'v3');
    assert.ok(readFileSync(join(home, 'config.yaml'), 'utf8').includes('subset: v3'));
  });

  test('a process started by hand joins with `meshmedic register` and talks to the mesh both ways', async () => {
    const legacyApp: Server = createServer((req, res) => res.end(JSON.stringify({ service: 'legacy', path: req.url })));
    await new Promise<void>((r) => legacyApp.listen(0, '127.0.0.1', () => r()));
    const appPort = (legacyApp.address() as { port: number }).port;
    const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
    const address = '127.10.240.9';
    const reg: ChildProcess = spawn(process.execPath, [main, 'register', '--name', 'legacy-0', '-n', 'bookinfo', '--labels', 'app=legacy,version=v1', '--port', `9090/http=127.0.0.1:${appPort}`, '--address', address], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      await new Promise<void>((resolve, reject) => {
        reg.stdout!.on('data', (d: Buffer) => d.toString().includes('joined the mesh') && resolve());
        reg.once('exit', (code) => reject(new Error(`register exited ${code}`)));
      });
      const svc = join(home, 'legacy.yaml');
      writeFileSync(svc, 'apiVersion: v1\nkind: Service\nmetadata: {name: legacy, namespace: bookinfo}\nspec:\n  selector: {app: legacy}\n  ports: [{name: http, port: 9090}]\n');
      assert.equal(cli(['apply', '-f', svc]).code, 0);
      // The process calls a mesh service by name through its sidecar (HTTP_PROXY style).
      const out = await eventually(() => request(`http://${address}:15001/`, { headers: { host: 'details.bookinfo:9080' } }));
      assert.equal(out.service, 'details');
      // A mesh workload (productpage's sidecar) reaches the process through the Service.
      const pp = JSON.parse(cli(['status', '-o', 'json']).stdout).instances.find((i: { name: string }) => i.name === 'productpage-v1-0');
      const inn = await eventually(() => request(`http://${pp.address}:15001/hello`, { headers: { host: 'legacy:9090' } }));
      assert.deepEqual(inn, { service: 'legacy', path: '/hello' });
    } finally {
      reg.kill('SIGTERM');
      await new Promise((r) => reg.once('exit', r));
      legacyApp.close();
    }
    // Leaving the mesh deregisters it.
    const registry = JSON.parse(cli(['status', '-o', 'json']).stdout).instances as Array<{ name: string }>;
    assert.equal(registry.some((i) => i.name === 'legacy-0'), false);
  });

  test('invalid config is rejected whole: nothing applied, IST/E code and file:line printed', () => {
    const bad = join(home, 'bad.yaml');
    writeFileSync(bad, 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: ratings, namespace: bookinfo}\nspec:\n  hosts: [ratings]\n  http:\n  - route:\n    - destination: {host: ratings, subset: v1}\n---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: broken, namespace: bookinfo}\nspec:\n  hosts: [broken]\n  http:\n  - timeout: soon\n    route:\n    - destination: {host: ratings}\n');
    const r = cli(['apply', '-f', bad]);
    assert.equal(r.code, 65, r.stdout + r.stderr);
    assert.match(r.stderr, /bad\.yaml:\d+: .*timeout.*\[IST0106\]/);
    assert.match(r.stderr, /nothing was applied/);
    const get = cli(['get', 'vs', 'broken', '-n', 'bookinfo']);
    assert.notEqual(get.code, 0);
  });
});
