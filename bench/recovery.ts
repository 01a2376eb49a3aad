import { DemoMesh } from '../src/demo/demo-mesh.js';
import { BASELINE_MS, DEMO_RPS, FAULT_MS, HOLD_MS, SERVING_CLEAN_S, SERVING_TIMEOUT_MS } from '../src/demo/demo.js';
import { waitServing } from '../src/demo/serving.js';
import { LoadGenerator } from '../src/demo/load.js';
import { QUIET_DEADLINE_MS, runScenario } from '../src/demo/run-scenario.js';
import { findScenario, SCENARIOS, type Scenario } from '../src/demo/scenarios.js';
import type { Benchmark } from './registry.js';

// Recovery against no recovery, per fault type (the demo's scenarios, each one with a remedy):
// each scenario runs twice on a fresh Bookinfo under the same load (20 rps to productpage,
// same seed): once with `up --auto-recover`, once without (Istio-like defaults only: the mesh's
// default retry policy and outlier detection as Istio ships them, no meshmedic action). Both
// runs observe exactly HORIZON_MS after the injection, so failed user requests are counted over
// the same span; time until the SLO holds again is capped there (a run that never recovers
// reports null, and the cap is printed). Loopback only (MESHMEDIC_ADDRESS_BASE 127.26), bounded,
// every process stopped. One JSON line per run as it ends (emit), then the summary as one line.

const HORIZON_MS = 60_000;
const ADDRESS_BASE = '127.26';
/** The load's bound: baseline, the longest wait for a quiet namespace, the horizon, slack. */
const LOAD_MS = SERVING_TIMEOUT_MS + BASELINE_MS + QUIET_DEADLINE_MS + HORIZON_MS + 30_000;

interface RunLine {
  scenario: string;
  mode: 'auto' | 'without';
  detectedMs: number | null;
  detectToRestoreMs: number | null;
  mttrMs: number | null;
  failedRequests: number;
  totalRequests: number;
  rootCauseMatches: boolean;
  actions: string[];
  verified: boolean;
}

function p50(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : Math.round((s[m - 1] + s[m]) / 2);
}

async function once(scenario: Scenario, autoRecover: boolean, seed: number, progress: (s: string) => void): Promise<RunLine> {
  const mesh = new DemoMesh({ autoRecover, env: { MESHMEDIC_ADDRESS_BASE: ADDRESS_BASE } });
  let load: LoadGenerator | undefined;
  try {
    await mesh.up();
    const topology = await mesh.topology();
    load = new LoadGenerator({ origin: await mesh.productpageOrigin(), path: '/productpage', rps: DEMO_RPS, burst: scenario.burst, seed, maxDurationMs: LOAD_MS, maxRequests: Math.ceil((DEMO_RPS * LOAD_MS) / 1000) }).start();
    if (!(await waitServing(load, SERVING_CLEAN_S, SERVING_TIMEOUT_MS))) progress(`  ${scenario.name}: users not served ${SERVING_TIMEOUT_MS / 1000} s after up; the baseline is not clean`);
    await new Promise((r) => setTimeout(r, BASELINE_MS));
    const run = await runScenario({ scenario, mesh, load, topology, onEvent: (e) => progress(`  ${scenario.name}/${autoRecover ? 'auto' : 'without'}: ${e.kind} ${e.text}`), deadlineMs: HORIZON_MS, horizonMs: HORIZON_MS, holdMs: HOLD_MS, faultDurationMs: FAULT_MS });
    const r = run.result;
    return {
      scenario: scenario.name,
      mode: autoRecover ? 'auto' : 'without',
      detectedMs: r.detectedMs,
      detectToRestoreMs: run.detectToRestoreMs,
      mttrMs: r.mttrMs,
      failedRequests: r.failedRequests,
      totalRequests: r.totalRequests,
      rootCauseMatches: r.rootCause?.matchesInjected ?? false,
      actions: r.actions.map((a) => `${a.kind}:${a.state}`),
      verified: r.verified,
    };
  } finally {
    await load?.close();
    await mesh.down();
  }
}

export const recoveryBench: Benchmark = {
  description: 'per fault type on bookinfo: failed user requests and time to SLO restored, with auto-recovery vs without (Istio defaults); --scenarios a,b --seed N',
  streams: true,
  async run({ progress, emit, scenarios, seed }) {
    const chosen = scenarios?.length ? scenarios.map((n) => findScenario(n) ?? (() => { throw new Error(`unknown scenario "${n}" (have: ${SCENARIOS.map((s) => s.name).join(', ')})`); })()) : [...SCENARIOS];
    const runs: RunLine[] = [];
    for (const s of chosen) {
      for (const auto of [true, false]) {
        progress(`${s.name}: ${auto ? 'with auto-recovery' : 'without recovery (Istio defaults)'}...`);
        const line = await once(s, auto, seed ?? 1, progress);
        runs.push(line);
        if (emit) emit({ ...line });
        else progress(JSON.stringify(line));
      }
    }
    const auto = runs.filter((r) => r.mode === 'auto');
    const without = runs.filter((r) => r.mode === 'without');
    const failedWithAuto = auto.reduce((a, r) => a + r.failedRequests, 0);
    const failedWithout = without.reduce((a, r) => a + r.failedRequests, 0);
    const restored = auto.map((r) => r.detectToRestoreMs).filter((v): v is number => v !== null);
    const summary = {
      detectToRestoreP50Ms: p50(restored),
      restoredWithAuto: `${restored.length}/${auto.length}`,
      restoredWithout: `${without.filter((r) => r.mttrMs !== null).length}/${without.length}`,
      failedWithAuto,
      failedWithout,
      ratio: failedWithout > 0 ? Math.round((failedWithAuto / failedWithout) * 1000) / 1000 : null,
      horizonMs: HORIZON_MS,
      targets: { detectToRestoreP50Ms: 10_000, ratio: 0.1 },
    };
    return {
      benchmark: 'recovery',
      scenarios: chosen.map((s) => s.name),
      note: `each run observes ${HORIZON_MS / 1000} s after the injection (the cap of the run without recovery); ${DEMO_RPS} rps to productpage, seed ${seed ?? 1}; a page with a fallback, an error or slower than 1 s is a failed request; SLO: 99% per 5 s window, held ${HOLD_MS / 1000} s`,
      ...summary,
    };
  },
};
