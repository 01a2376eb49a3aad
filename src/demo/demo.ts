import { dashboardUrl } from '../dashboard/dashboard-url.js';
import { DemoMesh } from './demo-mesh.js';
import { LoadGenerator } from './load.js';
import { summaryLines, progressText, formatEvent, type TimelineEvent } from './timeline.js';
import { QUIET_DEADLINE_MS, runScenario, type ScenarioRun } from './run-scenario.js';
import type { Scenario } from './scenarios.js';
import { countRequests } from './slo-window.js';
import { waitServing } from './serving.js';

// `meshmedic demo`: Bookinfo with auto-recovery, steady users, one fault, and the loop told as a
// timeline. Headless runs one scenario and returns its result; interactive then keeps the mesh
// and the load running (the dashboard stays open to look at) until Ctrl-C or the load's bound.
// Whatever happens (an error, Ctrl-C), every process the demo started is stopped.

export const DEMO_RPS = 20;
/** Load before the fault: the detectors' baseline (DEMO_SLO: armed after 15 s) needs clean traffic behind it. */
export const BASELINE_MS = 20_000;
/** Users must be served this many seconds in a row before the baseline starts ... */
export const SERVING_CLEAN_S = 3;
/** ... within this long after the mesh is up. */
export const SERVING_TIMEOUT_MS = 60_000;
/** Headless: give up this long after the injection. */
export const DEADLINE_MS = 90_000;
/** Users must be served this long after the SLO is back. */
export const HOLD_MS = 5_000;
/** The fault stays in force at most this long (the mesh daemon clears it after). */
export const FAULT_MS = 10 * 60_000;
/** Interactive: the load (and so the demo) stops by itself after this long. */
export const INTERACTIVE_MAX_MS = 30 * 60_000;

export interface DemoOptions {
  scenario: Scenario;
  headless: boolean;
  seed: number;
  /** false: recovery off, Istio's defaults only (to compare); default true. */
  autoRecover?: boolean;
  home?: string;
  env?: Record<string, string>;
  /** Timeline lines. */
  print: (line: string) => void;
  /** Resolves when the user asks to stop (Ctrl-C). */
  interrupted: Promise<void>;
}

/** A wait that ends early (resolving) when the demo is interrupted, so no timer outlives it. */
function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

export class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

export async function runDemo(o: DemoOptions): Promise<ScenarioRun> {
  const t0 = Date.now();
  const emit = (e: TimelineEvent) => formatEvent(e, t0).forEach((l) => o.print(l));
  const note = (kind: TimelineEvent['kind'], text: string, detail?: string[]) => emit({ at: Date.now(), kind, text, detail });
  const autoRecover = o.autoRecover ?? true;
  const mesh = new DemoMesh({ home: o.home, autoRecover, env: o.env });
  let load: LoadGenerator | undefined;
  let stop = false;
  const abort = new AbortController();
  void o.interrupted.then(() => {
    stop = true;
    abort.abort();
  });
  // Races a step against Ctrl-C, so an interrupted demo goes straight to its cleanup.
  // One rejection, marked handled: a Ctrl-C after a race is over must not be an unhandled rejection.
  const stopped = o.interrupted.then((): never => {
    throw new Interrupted();
  });
  stopped.catch(() => undefined);
  const orStop = <T>(p: Promise<T>): Promise<T> => Promise.race([p, stopped]);
  try {
    o.print(`meshmedic demo: scenario ${o.scenario.name}: ${o.scenario.description}`);
    note('mesh', `starting Bookinfo ${autoRecover ? 'with auto-recovery' : 'WITHOUT recovery (Istio defaults only)'} (state in ${mesh.home})`);
    // Not raced with Ctrl-C: `up` ends quickly either way, and stopping its mesh needs the
    // records it leaves (the daemon it started is detached from the terminal's signals).
    await mesh.up();
    if (stop) throw new Interrupted();
    const cp = mesh.controlPlane();
    const topology = await mesh.topology();
    note('mesh', `Bookinfo is up: ${topology.instances.length} instances, control plane ${cp.url}`);
    note('dashboard', dashboardUrl(cp, 'incidents'));
    const origin = await mesh.productpageOrigin();
    // Headless: long enough for the baseline, a wait for quiet, the deadline and the hold.
    const loadMs = o.headless ? SERVING_TIMEOUT_MS + BASELINE_MS + QUIET_DEADLINE_MS + DEADLINE_MS + 30_000 : INTERACTIVE_MAX_MS;
    load = new LoadGenerator({ origin, path: '/productpage', rps: DEMO_RPS, burst: o.scenario.burst, seed: o.seed, maxDurationMs: loadMs, maxRequests: Math.ceil((DEMO_RPS * loadMs) / 1000) }).start();
    note('load', `${DEMO_RPS} users' requests a second${o.scenario.burst ? `, in groups of ${o.scenario.burst},` : ''} to ${origin}/productpage (a page with a fallback box, an error or slower than 1 s counts as failed)`);
    const serving = await orStop(waitServing(load, SERVING_CLEAN_S, SERVING_TIMEOUT_MS, abort.signal));
    const startup = load.snapshot();
    if (!serving && !stop) note('note', `users are not served ${SERVING_TIMEOUT_MS / 1000} s after the mesh came up (${progressText(Date.now() - load.startedAt, startup, { failed: startup.failed, total: startup.sent })}); going on, but the baseline is not clean`);
    else if (startup.failed > 0) note('note', `users served after ${((Date.now() - load.startedAt) / 1000).toFixed(1)} s; the mesh's start cost ${startup.failed} of ${startup.sent} requests (${Object.entries(startup.reasons).map(([r, n]) => `${r} x${n}`).join(', ')})`);
    const before = load.snapshot();
    note('baseline', `${BASELINE_MS / 1000} s of steady traffic so the detectors learn what normal looks like...`);
    await orStop(wait(BASELINE_MS, abort.signal));
    const base = load.snapshot();
    const reasons = Object.entries(base.reasons).map(([r, n]) => `${r} x${n}`).join(', ');
    note('baseline', `done: ${base.sent - before.sent} requests, ${base.failed - before.failed} failed${base.failed > before.failed ? ` (so far: ${reasons})` : ''}`);
    const run = await orStop(runScenario({ scenario: o.scenario, mesh, load, topology, onEvent: emit, deadlineMs: DEADLINE_MS, holdMs: HOLD_MS, faultDurationMs: FAULT_MS, signal: abort.signal }));
    o.print('');
    for (const l of summaryLines(run.result)) o.print(l);
    if (!o.headless) {
      o.print('');
      o.print(`The mesh keeps running with the load; open the dashboard: ${dashboardUrl(mesh.controlPlane(), 'incidents')}`);
      o.print('Press Ctrl-C to stop (every process the demo started is stopped).');
      let next = Date.now() + 10_000;
      while (!stop && load.running) {
        await new Promise((r) => setTimeout(r, 250));
        if (Date.now() >= next) {
          next += 10_000;
          const now = load.indexOf(Date.now());
          note('load', progressText(Date.now() - load.startedAt, load.snapshot(), countRequests(load.buckets, now - 5, now - 1)));
        }
      }
      if (!load.running && !stop) note('note', `the load stopped by itself after ${INTERACTIVE_MAX_MS / 60_000} min`);
    }
    return run;
  } finally {
    o.print('');
    o.print('stopping the demo: load, mesh (meshmedic down), then any process left, by PID');
    await load?.close();
    await mesh.down();
  }
}
