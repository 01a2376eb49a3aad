import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Pool } from 'undici';
import type { StatRow } from '../../src/telemetry/graph/stat.js';
import type { GraphEdge, TrafficGraph } from '../../src/telemetry/graph/types.js';
import { meshHome } from './mesh-home.js';

// Bookinfo on the local mesh under bounded load: the control plane scrapes every sidecar each
// second, and `meshmedic graph -o json` then shows productpage -> reviews -> ratings with
// traffic (service and workload levels), and `meshmedic stat` lists the four services, each
// answering every request.

const mesh = meshHome('graph', '127.16');
const { cli } = mesh;
const svc = (name: string) => `svc:${name}.bookinfo.svc.cluster.local`;

let productpage: Pool;

/** 20 page loads, 4 at a time; one in three as jason, whom reviews v2 (which calls ratings) serves. */
async function loadBatch(): Promise<void> {
  await Promise.all(
    Array.from({ length: 4 }, async (_, i) => {
      for (let k = 0; k < 5; k++) {
        const res = await productpage.request({ method: 'GET', path: '/productpage', headers: (i + k) % 3 === 0 ? { 'end-user': 'jason' } : {} });
        await res.body.dump();
        assert.equal(res.statusCode, 200);
      }
    }),
  );
}

function graph(level: string): TrafficGraph {
  const r = cli(['graph', '--level', level, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as TrafficGraph;
}

const busy = (g: TrafficGraph, from: string, to: string) => g.edges.some((e) => e.source === from && e.target === to && e.rps > 0);

describe('the service graph and stat on bookinfo in the local mesh', { timeout: 240_000 }, () => {
  before(() => {
    const up = cli(['up', '-f', 'examples/bookinfo', '--timeout', '60']);
    assert.equal(up.code, 0, `up failed:\n${up.stdout}\n${up.stderr}`);
    const status = JSON.parse(cli(['status', '-o', 'json']).stdout) as { instances: Array<{ name: string; address: string }> };
    const pp = status.instances.find((i) => i.name === 'productpage-v1-0')!;
    productpage = new Pool(`http://${pp.address}:9080`, { connections: 4 });
  });

  after(async () => {
    await productpage?.close();
    mesh.teardown();
  });

  test('graph -o json: productpage -> reviews -> ratings carry traffic; stat: every service answers 100%', async () => {
    // Bounded load: batches until two scrapes have seen the whole chain (rate() needs two
    // samples in its window), at most 40 batches (800 page loads).
    let g: TrafficGraph | undefined;
    let batches = 0;
    for (; batches < 40; batches++) {
      await loadBatch();
      g = graph('service');
      if (busy(g, svc('productpage'), svc('reviews')) && busy(g, svc('reviews'), svc('ratings')) && busy(g, svc('productpage'), svc('details'))) break;
    }
    console.log(`e2e graph: ${(batches + 1) * 20} page loads until the chain showed`);
    assert.ok(g);
    for (const [from, to] of [
      ['unknown', svc('productpage')],
      [svc('productpage'), svc('details')],
      [svc('productpage'), svc('reviews')],
      [svc('reviews'), svc('ratings')],
    ]) {
      const e: GraphEdge | undefined = g.edges.find((x) => x.source === from && x.target === to);
      assert.ok(e && e.rps > 0, `no traffic ${from} -> ${to} in ${JSON.stringify(g.edges.map((x) => [x.source, x.target, x.rps]))}`);
      assert.equal(e.protocol, 'http');
      assert.ok(e.latencyMs && e.latencyMs.p50 > 0 && e.latencyMs.p50 <= e.latencyMs.p99, JSON.stringify(e.latencyMs));
    }

    // The workload level names the versions: productpage-v1 -> reviews -> reviews-v2 -> ratings.
    const w = graph('workload');
    assert.ok(busy(w, 'wl:bookinfo/productpage-v1', svc('reviews')), 'productpage-v1 -> reviews');
    assert.ok(busy(w, svc('reviews'), 'wl:bookinfo/reviews-v2'), 'reviews -> reviews-v2');
    assert.ok(busy(w, 'wl:bookinfo/reviews-v2', svc('ratings')), 'reviews-v2 -> ratings');
    assert.ok(busy(w, svc('ratings'), 'wl:bookinfo/ratings-v1'), 'ratings -> ratings-v1');

    const table = cli(['stat']);
    assert.equal(table.code, 0, table.stderr);
    console.log(table.stdout);
    const rows = JSON.parse(cli(['stat', '-o', 'json']).stdout) as StatRow[];
    const bookinfo = rows.filter((r) => r.namespace === 'bookinfo');
    assert.deepEqual(bookinfo.map((r) => r.name), ['details', 'productpage', 'ratings', 'reviews']);
    for (const r of bookinfo) {
      assert.ok(r.rps > 0, `${r.name}: rps ${r.rps}`);
      assert.equal(r.successRatio, 1, `${r.name}: success ${r.successRatio}`);
      assert.equal(r.health, 'Healthy', `${r.name}: ${r.healthReason}`);
      assert.match(table.stdout, new RegExp(`^bookinfo\\s+${r.name}\\s+100\\.00%\\s+[\\d.]+rps`, 'm'));
    }
  });
});
