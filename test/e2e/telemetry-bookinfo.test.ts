import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Pool, request } from 'undici';
import { find, parseExposition, type Sample } from '../telemetry/sidecar-fixture.js';
import { meshHome } from './mesh-home.js';

// Istio's standard metrics in the whole local mesh: bookinfo under bounded load, then each
// sidecar's :15090/stats/prometheus must show istio_requests_total and
// istio_request_duration_milliseconds series with every standard label filled in, from both
// reporters, and no `unknown` for a peer inside the mesh (principals stay `unknown` until mTLS;
// the test client calling productpage is outside the mesh, so that edge's source is unknown).

const mesh = meshHome('telemetry', '127.13');
const { cli } = mesh;

const STANDARD_LABELS = [
  'reporter', 'source_workload', 'source_canonical_service', 'source_canonical_revision', 'source_workload_namespace', 'source_principal', 'source_app',
  'source_version', 'source_cluster', 'destination_workload', 'destination_workload_namespace', 'destination_principal', 'destination_app',
  'destination_version', 'destination_service', 'destination_canonical_service', 'destination_canonical_revision', 'destination_service_name',
  'destination_service_namespace', 'destination_cluster', 'request_protocol', 'response_code', 'grpc_response_status', 'response_flags', 'connection_security_policy',
].sort();
/** Labels source reports leave `unknown`: the client sidecar does not read the principals of its upstream connections yet. */
const SOURCE_REPORT_UNKNOWN = ['source_principal', 'destination_principal'];

interface Instance {
  name: string;
  address: string;
}

let instances: Instance[] = [];
let productpage: Pool;

async function scrape(address: string): Promise<Sample[]> {
  const res = await request(`http://${address}:15090/stats/prometheus`);
  assert.equal(res.statusCode, 200);
  return parseExposition(await res.body.text());
}

/** Bounded load: pages until every sidecar has reported a request (reviews v3 takes 10% of the rest), at most 1000. */
async function load(): Promise<number> {
  let sent = 0;
  const batch = async () => {
    await Promise.all(
      Array.from({ length: 4 }, async (_, i) => {
        for (let k = 0; k < 5; k++) {
          const res = await productpage.request({ method: 'GET', path: '/productpage', headers: (sent + i + k) % 3 === 0 ? { 'end-user': 'jason' } : {} });
          await res.body.dump();
          assert.equal(res.statusCode, 200);
        }
      }),
    );
    sent += 20;
  };
  for (;;) {
    await batch();
    const seen = await Promise.all(instances.map(async (i) => find(await scrape(i.address), 'istio_requests_total').length > 0));
    if (seen.every(Boolean) || sent >= 1000) return sent;
  }
}

describe('Istio standard metrics on bookinfo in the local mesh', { timeout: 180_000 }, () => {
  before(async () => {
    const up = cli(['up', '-f', 'examples/bookinfo', '--timeout', '60']);
    assert.equal(up.code, 0, `up failed:\n${up.stdout}\n${up.stderr}`);
    const status = JSON.parse(cli(['status', '-o', 'json']).stdout) as { instances: Instance[] };
    instances = status.instances;
    const pp = instances.find((i) => i.name === 'productpage-v1-0')!;
    productpage = new Pool(`http://${pp.address}:9080`, { connections: 4 });
  });

  after(async () => {
    await productpage?.close();
    mesh.teardown();
  });

  test('every sidecar shows both metrics with every standard label; peers in the mesh are never unknown', async () => {
    const sent = await load();
    console.log(`e2e telemetry: ${sent} productpage requests`);
    const reporters = new Set<string>();
    const edges = new Set<string>();
    for (const inst of instances) {
      const samples = await scrape(inst.address);
      const requests = find(samples, 'istio_requests_total');
      assert.ok(requests.length > 0, `${inst.name}: no istio_requests_total`);
      for (const s of requests) {
        const l = s.labels;
        assert.deepEqual(Object.keys(l).sort(), STANDARD_LABELS, `${inst.name}: labels of ${JSON.stringify(l)}`);
        reporters.add(l.reporter);
        // The duration histogram has the same label set and counts the same requests.
        const count = find(samples, 'istio_request_duration_milliseconds_count', l);
        assert.deepEqual(count.map((c) => c.value), [s.value], `${inst.name}: duration count for ${JSON.stringify(l)}`);
        assert.equal(find(samples, 'istio_request_duration_milliseconds_bucket', { ...l, le: '+Inf' })[0]?.value, s.value);
        assert.equal(l.request_protocol, 'http');
        const outsideCaller = inst.name === 'productpage-v1-0' && l.reporter === 'destination';
        // Inside the mesh every call is mutual TLS (auto mTLS; bookinfo is STRICT but for its entry,
        // productpage, which the test client calls in plaintext from outside the mesh).
        assert.equal(l.connection_security_policy, l.reporter === 'source' ? 'unknown' : outsideCaller ? 'none' : 'mutual_tls');
        // A local reply (a timeout on a loaded machine, say) may rightly name no destination
        // workload; the requests that were proxied must name every peer inside the mesh.
        if (l.response_flags !== '-') continue;
        if (l.reporter === 'destination' && !outsideCaller) {
          assert.match(l.source_principal, /^spiffe:\/\/cluster\.local\/ns\/bookinfo\/sa\/bookinfo-/);
          assert.match(l.destination_principal, /^spiffe:\/\/cluster\.local\/ns\/bookinfo\/sa\/bookinfo-/);
        }
        const expectUnknown = new Set(l.reporter === 'source' ? [...SOURCE_REPORT_UNKNOWN, 'connection_security_policy'] : outsideCaller ? ['destination_principal'] : []);
        for (const [name, value] of Object.entries(l)) {
          if (outsideCaller && name.startsWith('source_')) continue;
          if (expectUnknown.has(name)) assert.equal(value, 'unknown', `${inst.name}: ${name}`);
          else assert.notEqual(value, 'unknown', `${inst.name}: ${name} is unknown in ${JSON.stringify(l)}`);
        }
        if (outsideCaller) assert.equal(l.source_workload, 'unknown');
        if (l.response_code === '200') edges.add(`${l.reporter}:${l.source_workload}->${l.destination_workload}@${l.destination_service}`);
      }
    }
    assert.deepEqual([...reporters].sort(), ['destination', 'source']);
    // Both sides report each call inside the mesh.
    for (const [from, to, service] of [
      ['productpage-v1', 'details-v1', 'details'],
      ['productpage-v1', 'reviews-v1', 'reviews'],
      ['productpage-v1', 'reviews-v2', 'reviews'],
      ['reviews-v2', 'ratings-v1', 'ratings'],
    ]) {
      for (const reporter of ['source', 'destination']) {
        const edge = `${reporter}:${from}->${to}@${service}.bookinfo.svc.cluster.local`;
        assert.ok(edges.has(edge), `missing ${edge} in\n${[...edges].sort().join('\n')}`);
      }
    }
  });
});
