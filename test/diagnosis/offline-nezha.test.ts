import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { defaultNezhaDir } from '../../bench/diagnosis-offline.js';
import { readNezhaDay, serviceOfPod } from '../../src/diagnosis/offline/nezha-dataset.js';
import { nezhaSnapshot } from '../../src/diagnosis/offline/nezha-snapshot.js';
import type { RecordedFeatures } from '../../src/diagnosis/offline/recorded-features.js';
import type { Entity, SignalSnapshot } from '../../src/diagnosis/signals/snapshot.js';

// The offline adapter on Nezha's recorded data (../shared/datasets/nezha): one fault of each
// Online Boutique day becomes a SignalSnapshot whose figures are the means of the CSV rows in
// its windows (the rows are quoted below), and the benchmark runs end to end through the CLI on
// a few faults. No assertion on accuracy: that is a measured figure, not a property.

const DIR = defaultNezhaDir();
const run = promisify(execFile);
const mean = (...xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const close = (actual: number | null | undefined, expected: number, what: string) =>
  assert.ok(actual != null && Math.abs(actual - expected) < 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${actual} != ${expected}`);

function entity(s: SignalSnapshot, kind: Entity['kind'], service: string): Entity {
  const e = s.entities.find((x) => x.kind === kind && x.service === service);
  assert.ok(e, `${kind} ${service} in the snapshot`);
  return e;
}

const recorded = (f: unknown) => (f as RecordedFeatures | null)?.recorded;

describe('Nezha offline adapter', { skip: !existsSync(DIR) && `no data at ${DIR}` }, () => {
  test('pod names map to services', () => {
    assert.equal(serviceOfPod('cartservice-579f59597d-wc2lz'), 'cartservice');
    assert.equal(serviceOfPod('ts-admin-order-service-84cbf6c798-jpzbd'), 'ts-admin-order-service');
  });

  test('2022-08-22, first fault (frontend cpu_contention at 1661140434): figures are the rows of its windows', () => {
    const day = readNezhaDay(DIR, '2022-08-22');
    assert.equal(day.faults.length, 24);
    const f = day.faults[0];
    assert.deepEqual([f.injectS, f.service, f.type], [1661140434, 'frontend', 'cpu_contention']);
    const s = nezhaSnapshot(day, f);
    assert.deepEqual(s.current, { startMs: 1661140434000, endMs: 1661140614000 });
    assert.deepEqual(s.baseline, { startMs: 1661140194000, endMs: 1661140434000 });
    // Ten services, each a service and a workload entity; fourteen service-to-service calls.
    assert.equal(s.entities.filter((e) => e.kind === 'service').length, 10);
    assert.equal(s.edges.length, 14);

    const fe = entity(s, 'service', 'frontend');
    // frontend rows 1661140459, 1661140519, 1661140579 (current) and 1661140279, ...339, ...399 (baseline).
    const cur = recorded(fe.current.destination)!;
    close(cur.rps, mean(6.933333333333334, 6.6, 5.933333333333333), 'PodWorkload');
    close(fe.current.destination!.rps, cur.rps!, 'Features.rps');
    close(cur.latencyMs.p95, mean(2.31554054054054, 2.4310483870967743, 2.4118421052631573) * 1000, 'PodServerLatencyP95');
    close(recorded(fe.baseline.destination)!.latencyMs.p95, mean(1.8249999999999984, 0.9825, 0.8867647058823525) * 1000, 'baseline PodServerLatencyP95');
    close(fe.cpuPercent?.current, mean(80.525332089788186, 81.34510727295641, 100.2320195529853), 'CpuUsageRate');
    close(fe.cpuPercent?.baseline, mean(26.709652473466033, 28.63884820532429, 25.73049235784396), 'baseline CpuUsageRate');
    // The entry point's SuccessRate (front_service.csv) was 100 in each current row: no errors.
    assert.equal(cur.successRatio, 1);
    assert.equal(fe.current.destination!.errorRatio, 0);
    // What the recording does not have stays empty: no mean, no p50 per pod, no flags, no callers' view.
    assert.equal(fe.current.destination!.meanMs, null);
    assert.equal(cur.latencyMs.p50, null);
    assert.deepEqual(fe.current.destination!.flags, {});
    assert.equal(fe.current.source, null);
    const wl = entity(s, 'workload', 'frontend');
    close(recorded(wl.outbound?.current)!.latencyMs.p99, mean(0.24937500000000057, 0.2006071428571421, 0.19541304347826108) * 1000, 'PodClientLatencyP99');
    assert.equal(recorded(wl.outbound?.current)!.rps, null);
    // PodSuccessRate is 0 everywhere: not read, so a service other than the entry point has no error figure.
    assert.equal(entity(s, 'service', 'cartservice').current.destination!.errorRatio, null);

    const edge = s.edges.find((e) => e.sourceWorkload === 'frontend' && e.service === 'productcatalogservice');
    assert.ok(edge);
    assert.equal(edge.sourceService, 'frontend.default.svc.cluster.local');
    close(recorded(edge.current.source)!.latencyMs.p50, mean(0.009303097, 0.009176357, 0.013716518) * 1000, 'source_50');
    close(recorded(edge.current.destination)!.latencyMs.p50, mean(0.007800926, 0.007580645, 0.007711443) * 1000, 'destination_50');
    assert.equal(recorded(edge.current.source)!.rps, null);
  });

  test('2022-08-23, first fault (frontend cpu_contention at 1661256085): a baseline row missing from the file stays missing', () => {
    const day = readNezhaDay(DIR, '2022-08-23');
    assert.equal(day.faults.length, 32);
    const s = nezhaSnapshot(day, day.faults[0]);
    const fe = entity(s, 'service', 'frontend');
    close(recorded(fe.current.destination)!.rps, mean(8.533333333333333, 6, 5.333333333333334), 'PodWorkload');
    // The file has two rows in the baseline window (1661255968, 1661256028): the mean is over those two.
    close(recorded(fe.baseline.destination)!.rps, mean(9.066666666666666, 8.6), 'baseline PodWorkload');
    close(recorded(fe.current.destination)!.latencyMs.p95, mean(0.8890625000000002, 2.389473684210526, 3.482142857142858) * 1000, 'PodServerLatencyP95');
    const edge = s.edges.find((e) => e.sourceWorkload === 'frontend' && e.service === 'adservice')!;
    close(recorded(edge.current.source)!.latencyMs.p50, mean(0.008046875, 0.015089286, 0.016428571) * 1000, 'source_50');
    close(recorded(edge.current.destination)!.latencyMs.p50, mean(0.007840909, 0.014655172, 0.01483871) * 1000, 'destination_50');
  });

  test('meshmedic bench diagnosis-offline runs end to end on a few faults', async () => {
    const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
    const { stdout } = await run(process.execPath, [main, 'bench', 'diagnosis-offline', '--data', DIR, '--size', '2', '-o', 'json'], { maxBuffer: 16 << 20 });
    const out = JSON.parse(stdout) as {
      faults: Array<{ day: string; fault: string; injectTime: string; service: string; type: string; top5: string[] }>;
      summary: Record<string, { n: number; ac1: number | null; ac3: number | null; ac5: number | null; byType: Record<string, { n: number }> }>;
      paper: { rows: Array<{ method: string; ob: number[] }> };
    };
    // Two faults of each day with metrics (OB 2022-08-22, 2022-08-23; TT 2023-01-30).
    assert.deepEqual(out.faults.map((f) => f.day), ['2022-08-22', '2022-08-22', '2022-08-23', '2022-08-23', '2023-01-30', '2023-01-30']);
    assert.deepEqual(out.faults[0].service, 'frontend');
    for (const f of out.faults) {
      assert.ok(Array.isArray(f.top5) && f.top5.length <= 5);
      assert.ok(f.injectTime && f.type && f.fault.includes(f.type));
    }
    assert.equal(out.summary.onlineBoutique.n, 4);
    assert.equal(out.summary.trainTicket.n, 2);
    const ob = out.summary.onlineBoutique;
    assert.ok(ob.ac1! <= ob.ac3! && ob.ac3! <= ob.ac5!);
    assert.equal(Object.values(ob.byType).reduce((a, t) => a + t.n, 0), 4);
    assert.deepEqual(out.paper.rows.find((r) => r.method === 'MicroRCA')?.ob, [16.07, 62.5, 92.75]);
  });
});
