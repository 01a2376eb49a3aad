import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'undici';
import { meshHome, sleep, until } from './mesh-home.js';
import { causeMatches, matchRank, type ExpectedRef, type TopologyView } from '../../src/diagnosis/ground-truth.js';
import { describeTarget, type Incident, type RankedCause } from '../../src/diagnosis/model.js';
import type { Injection } from '../../src/platform/local/chaos/types.js';

// Diagnosis on the local mesh, real processes: a small topology under steady load, one fault of
// each type chaos provides injected at a time; for each, detection must open an incident, its
// top cause must be the injected culprit (chaos's ground truth), and the evidence must name the
// flags and figures it used. Bounded: every wait has a deadline; every process is stopped after.

const TOPOLOGY = `
defaults:
  namespace: diag
services:
- name: front
  isEntrypoint: true
  latency: 2ms
  script:
  - call: {service: api, timeout: 2s}
  - call: {service: store, hostname: pay.example.test:80, timeout: 1s, fallback: no payment}
- name: api
  numReplicas: 2
  latency: 15ms
  script:
  - call: {service: store, timeout: 1s}
- name: store
  latency: 4ms
  versions:
  - name: v1
    replicas: 1
  - name: v2
    replicas: 1
`;

const SLO = 'baselineMs: 20000\ncloseAfterMs: 4000\n';
const RPS = 30;
const BURST = 3;

const mesh = meshHome('diag', '127.20');
const { home, cli, ok, api } = mesh;

let topo: TopologyView;
let front: Pool;
let loadTimer: NodeJS.Timeout | undefined;
let sent = 0;
const results: Array<{ type: string; expected: string; top: string; rank: number; detectedMs: number }> = [];

/**
 * Load on the entry service: RPS requests a second in bursts of BURST (real clients are not
 * evenly spaced, and a connection pool only overflows under concurrency); answers are dropped.
 */
function startLoad(address: string): void {
  front = new Pool(`http://${address}:8080`, { connections: 16 });
  loadTimer = setInterval(() => {
    for (let i = 0; i < BURST; i++) {
      sent++;
      front.request({ method: 'GET', path: '/', signal: AbortSignal.timeout(5000) }).then((r) => r.body.dump(), () => undefined);
    }
  }, (1000 * BURST) / RPS);
}

interface Case {
  type: string;
  target: string;
  args?: string[];
  /** What the top cause's evidence must say (flags and figures). */
  evidence: RegExp;
  /** More checks while the fault is in force. */
  also?: (inj: Injection) => void;
}

/** `analyze` with the mesh running: the live config's analyzer messages and the runtime ranking, from the CLI. */
function analyzeSeesBadConfig(inj: Injection): void {
  const r = cli(['analyze', '-n', 'diag', '-o', 'json']);
  assert.equal(r.code, 79, `analyze exits 79 when it finds issues:\n${r.stderr}`);
  const out = JSON.parse(r.stdout) as { staticFindings: Array<{ code: string; origin: string }>; runtime: { causes: RankedCause[]; detections: unknown[] } };
  assert.ok(out.staticFindings.some((m) => m.code === 'IST0101' && m.origin === 'VirtualService diag/store'), JSON.stringify(out.staticFindings));
  assert.equal(describeTarget(out.runtime.causes[0].target), inj.expectedCause.label, JSON.stringify(out.runtime.causes[0]));
  assert.ok(out.runtime.causes[0].evidence.some((e) => e.signal === 'analysis' && /IST0101/.test(e.text)), 'the analyzer message joins the cause\'s evidence');
  const focused = cli(['analyze', '-n', 'diag', '-r', 'front']);
  assert.match(focused.stdout, /Ranked causes:\n  1\. \[[\d.]+\] config change VirtualService diag\/store/, focused.stdout);
}

const CASES: Case[] = [
  { type: 'error-rate', target: 'service/api', evidence: /answered [\d.]+% of \d+ requests with errors/ },
  { type: 'latency', target: 'workload/store-v1', args: ['--delay', '200ms'], evidence: /mean latency rose by [\d.]+ (ms|s)/ },
  { type: 'instance-crash', target: 'api-v1-1', evidence: /not ready|UF x\d+|served [\d.]+% of/ },
  { type: 'instance-hang', target: 'store-v2-0', evidence: /not ready|DC x\d+|response code 0|served [\d.]+% of/ },
  { type: 'cpu-burn', target: 'api-v1-0', evidence: /mean latency rose by [\d.]+ (ms|s)/ },
  { type: 'network-delay', target: 'front->api', args: ['--delay', '200ms'], evidence: /sidecar measures [\d.]+ (ms|s) more than the destination's/ },
  { type: 'bad-version', target: 'store', evidence: /answered [\d.]+% of \d+ requests with errors/ },
  { type: 'bad-config', target: 'store', evidence: /NC x\d+/, also: analyzeSeesBadConfig },
  { type: 'external-outage', target: 'pay.example.test', args: ['--mode', 'refuse'], evidence: /flags UF[A-Z,]* x\d+/ },
  { type: 'pool-exhaustion', target: 'api', evidence: /UO/ },
];

describe('diagnosis on the local mesh: each fault type gets the right top cause, with evidence', { timeout: 20 * 60_000 }, () => {
  before(async () => {
    writeFileSync(join(home, 'topology.yaml'), TOPOLOGY);
    writeFileSync(join(home, 'slo.yaml'), SLO);
    ok(['up', '-f', join(home, 'topology.yaml'), '--timeout', '60']);
    const status = JSON.parse(ok(['status', '-o', 'json'])) as { instances: Array<{ name: string; namespace: string; workload: string; address: string; labels: Record<string, string> }> };
    topo = { instances: status.instances.map((i) => ({ namespace: i.namespace, name: i.name, workload: i.workload, service: i.labels.app })) };
    ok(['chaos', 'stand-in', 'add', 'pay.example.test', '-n', 'diag']);
    startLoad(status.instances.find((i) => i.name === 'front-v1-0')!.address);
    // Detection compares with a baseline: give it one (warm-up is a window plus half a baseline).
    await sleep(25_000);
    const quiet = await api<{ incidents: Array<{ status: string }> }>('/api/v1/incidents');
    assert.ok(quiet.incidents.every((i) => i.status === 'closed'), `incidents before any fault: ${JSON.stringify(quiet)}`);
  });

  after(async () => {
    if (loadTimer) clearInterval(loadTimer);
    await front?.destroy();
    mesh.teardown();
    const ac1 = results.filter((r) => r.rank === 1).length / Math.max(1, results.length);
    const ac3 = results.filter((r) => r.rank >= 1 && r.rank <= 3).length / Math.max(1, results.length);
    console.log(`e2e diagnosis: ${sent} requests sent; AC@1 ${ac1.toFixed(2)}, AC@3 ${ac3.toFixed(2)} over ${results.length} faults`);
    for (const r of results) console.log(`  ${r.type.padEnd(16)} detected +${r.detectedMs} ms  rank ${r.rank}  expected ${r.expected}  top ${r.top}`);
  });

  for (const c of CASES) {
    test(`${c.type} on ${c.target}`, async () => {
      const inj = JSON.parse(ok(['chaos', 'inject', c.type, '-t', c.target, '-n', 'diag', '-d', '90s', '-o', 'json', ...(c.args ?? [])])) as Injection;
      const expected = inj.expectedCause as unknown as ExpectedRef;
      let incident: Incident | undefined;
      try {
        // The incident that records this fault: one opened by it, or one still open when it began
        // (a fault joins an incident opened less than two windows before it).
        const summary = await until(
          'an incident opens',
          () => api<{ incidents: Array<{ id: string; openedAt: number; closedAt?: number; detections: number }> }>('/api/v1/incidents?limit=5').then((r) =>
            r.incidents.find((i) => i.openedAt >= inj.startedAt - 1500 || (i.closedAt === undefined && i.openedAt < inj.startedAt)),
          ),
          (i) => i !== undefined && (i.openedAt >= inj.startedAt - 1500 || i.closedAt === undefined),
          30_000,
        ).catch((e) => {
          results.push({ type: c.type, expected: inj.expectedCause.label, top: 'no incident', rank: 0, detectedMs: -1 });
          throw e;
        });
        // The ranking is redone every second as evidence accumulates (a hung process looks slow
        // before its probe fails): wait (bounded) for it to name the culprit with its evidence.
        const evidenced = (top: RankedCause) => top.evidence.some((e) => Object.keys(e.figures).length > 0) && top.evidence.some((e) => c.evidence.test(e.text));
        incident = await until(
          `the top cause names ${inj.expectedCause.label}, with evidence matching ${c.evidence}`,
          () => api<Incident>(`/api/v1/incidents/${summary!.id}`),
          (i) => i.causes.length > 0 && causeMatches(i.causes[0], expected, topo) && evidenced(i.causes[0]),
          20_000,
        ).catch(async (e) => {
          const last = await api<Incident>(`/api/v1/incidents/${summary!.id}`);
          results.push({ type: c.type, expected: inj.expectedCause.label, top: last.causes[0] ? describeTarget(last.causes[0].target) : 'none', rank: matchRank(last.causes, expected, topo), detectedMs: last.openedAt - inj.startedAt });
          throw new Error(`${(e as Error).message}\ncauses:\n${show(last.causes)}`);
        });
        results.push({ type: c.type, expected: inj.expectedCause.label, top: describeTarget(incident.causes[0].target), rank: 1, detectedMs: incident.openedAt - inj.startedAt });
        const top = incident.causes[0];
        const texts = top.evidence.map((e) => e.text).join('\n');
        assert.match(texts, c.evidence, `evidence of ${describeTarget(top.target)}:\n${texts}`);
        assert.ok(top.evidence.some((e) => Object.keys(e.figures).length > 0), 'the evidence carries its figures');
        assert.ok(top.score > 0 && top.score <= 1);
        c.also?.(inj);
      } finally {
        ok(['chaos', 'clear', inj.id]);
        if (incident) {
          // The next fault needs this one's incident closed. Its baseline then keeps out of this
          // incident by itself (it ends before the incident began while the incident is within a
          // baseline's length): what is left to wait for is a healthy mesh, not a clean baseline.
          await until('the incident closes', () => api<Incident>(`/api/v1/incidents/${incident!.id}`), (i) => i.status === 'closed', 90_000);
        }
        await until(
          'the mesh is healthy (no open incident, every instance ready)',
          () => Promise.all([api<{ incidents: Array<{ status: string }> }>('/api/v1/incidents?status=open'), api<{ instances: Array<{ healthy: boolean }> }>('/api/v1/registry')]),
          ([open, reg]) => open.incidents.every((i) => i.status !== 'open') && reg.instances.every((i) => i.healthy),
          60_000,
        );
      }
    });
  }
});

function show(causes: readonly RankedCause[]): string {
  return causes.slice(0, 5).map((c) => `  ${c.score.toFixed(3)} ${describeTarget(c.target)} [${c.mechanism}]: ${c.evidence.map((e) => e.text).join(' | ')}`).join('\n');
}
