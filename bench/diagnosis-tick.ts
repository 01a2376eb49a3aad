import type { Benchmark } from './registry.js';
import { DiagnosisService } from '../src/diagnosis/diagnosis-service.js';
import { MetricsStore } from '../src/telemetry/store/metrics-store.js';
import { StoreMetricsSource } from '../src/telemetry/store/store-source.js';
import { percentile } from './diagnosis-scenarios.js';
// The test suite's simulated sidecars and clock: the same Istio series a mesh exports, on a
// clock the benchmark moves (no sockets, no other process: the round's own cost only).
import { ManualClock } from '../test/support/manual-clock.js';
import { MeshSim, simPod, type SimPod } from '../test/diagnosis/mesh-sim.js';

// `meshmedic bench diagnosis-tick --size N --runs R`: what one diagnosis round costs the control
// plane for a mesh of N services (a binary tree of calls from svc-0, two instances each, every
// instance calling every instance of its children: N*2 pods and about 8N edges of pods), with
// Istio's series scraped once a second into the embedded store. 90 s of healthy traffic, then
// errors on one service for 20 s (an incident opens and is ranked every second). Wall time per
// round (detection, plus localization when due), p50 and p95, healthy and with the incident;
// R repeats, the figures of each printed. Single-threaded, so the machine's other work shows.

const START = 1_700_000_000_000;

async function once(size: number) {
  const clock = new ManualClock(START);
  const store = new MetricsStore({ now: clock.now });
  const sim = new MeshSim(store, START);
  const pods: SimPod[][] = [];
  for (let i = 0; i < size; i++) pods.push([simPod(`svc-${i}`, 'v1', 'gen', 0), simPod(`svc-${i}`, 'v1', 'gen', 1)]);
  sim.set('in', { from: null, service: 'svc-0', to: pods[0][0], rps: 15, ms: 20 });
  const call = (p: number, i: number, code?: string) => {
    for (const a of pods[p]) for (const b of pods[i]) sim.set(`${p}-${i}-${a.pod}-${b.pod}`, { from: a, service: `svc-${i}`, to: b, rps: 3, ms: 5, ...(code && { code }) });
  };
  for (let i = 1; i < size; i++) call(Math.floor((i - 1) / 2), i);
  const service = new DiagnosisService({ metrics: new StoreMetricsSource(store, clock.now) }, clock, { outlierEvents: false });
  const times: number[] = [];
  const run = async (seconds: number) => {
    for (let s = 0; s < seconds; s++) {
      const next = Math.floor(clock.now() / 1000) * 1000 + 1000;
      clock.advance(next + 300 - clock.now());
      sim.advanceTo(next);
      const t = performance.now();
      await service.evaluate();
      times.push(performance.now() - t);
    }
  };
  await run(90);
  // The first 30 rounds fill the store (warm-up: no checks yet); the rest is a healthy mesh.
  const healthy = times.splice(0).slice(30);
  const faulty = Math.min(size - 1, 7);
  call(Math.floor((faulty - 1) / 2), faulty, '500');
  await run(20);
  const incidents = service.incidents.list().length;
  await service.stop();
  const r = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);
  return { healthyP50Ms: r(percentile(healthy, 0.5)), healthyP95Ms: r(percentile(healthy, 0.95)), incidentP50Ms: r(percentile(times, 0.5)), incidentP95Ms: r(percentile(times, 0.95)), incidents };
}

export const diagnosisTickBench: Benchmark = {
  description: 'cost of one diagnosis round (detection, localization) for --size N services on the injected clock; --runs R',
  streams: true,
  async run({ size, runs, progress, emit }) {
    const n = size ?? 30;
    const out: Array<Awaited<ReturnType<typeof once>>> = [];
    for (let i = 0; i < Math.max(1, runs); i++) {
      const r = await once(n);
      progress(`run ${i + 1}: healthy round p50 ${r.healthyP50Ms} ms, with an incident p50 ${r.incidentP50Ms} ms`);
      emit?.({ run: i + 1, services: n, pods: 2 * n, ...r });
      out.push(r);
    }
    const med = (k: 'healthyP50Ms' | 'healthyP95Ms' | 'incidentP50Ms' | 'incidentP95Ms') => percentile(out.map((x) => Number(x[k])), 0.5);
    return { services: n, pods: 2 * n, runs: out.length, healthyP50Ms: med('healthyP50Ms'), healthyP95Ms: med('healthyP95Ms'), incidentP50Ms: med('incidentP50Ms'), incidentP95Ms: med('incidentP95Ms') };
  },
};
