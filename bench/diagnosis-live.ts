import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool, request } from 'undici';
import type { Benchmark } from './registry.js';
import { externalHostsOf, generateScenarios, measuredRates, MIN_RPS, modelRates, scenarioSpace, summarize, trafficOf, type RateSample, type Scenario, type ScenarioResult } from './diagnosis-scenarios.js';
import { MeshmedicError } from '../src/api/errors.js';
import { EXIT_INCORRECT_USAGE, EXIT_UNKNOWN_ERROR, ExitError } from '../src/cli/exit-codes.js';
import { matchRank, type Expected, type TopologyView } from '../src/diagnosis/ground-truth.js';
import { describeTarget, type Incident } from '../src/diagnosis/model.js';
import { parseParams, type RawParams } from '../src/platform/local/chaos/params.js';
import { FAULT_TYPES, type FaultType, type Injection } from '../src/platform/local/chaos/types.js';
import { callDaemon } from '../src/platform/local/daemon-client.js';
import { loadTopology } from '../src/platform/local/topology/parse.js';
import type { Topology } from '../src/platform/local/topology/model.js';
import { isAlive, StateDir } from '../src/platform/local/state-dir.js';

// `meshmedic bench diagnosis --topology FILE|DIR --scenarios N --seed S`: the live diagnosis
// benchmark. It starts the topology in a mesh of its own (`meshmedic up` in a temporary
// MESHMEDIC_HOME, at $MESHMEDIC_ADDRESS_BASE or 127.27), a stand-in for every external host the
// topology calls, and bounded steady load on the entry services (RPS requests a second in bursts
// of BURST: a pool only overflows under concurrency). Then, one at a time, N faults chosen from
// the seed (bench/diagnosis-scenarios.ts): inject through the mesh daemon, wait (bounded) for
// the first incident opened after the injection took effect, let its ranking settle for
// SETTLE_MS, read its top causes, compare them with chaos's ground truth, clear, and wait for
// health (no open incident, every instance ready) before the next. Every process it started is
// stopped at the end, on an error, and on Ctrl-C.
//
// Detection's thresholds are the defaults, but for two timings (slo.yaml, as in the e2e test):
// an incident closes 5 s after its last failing check rather than 15 s, and the baseline is the
// 20 s before the window rather than 60 s. Faults here follow each other every minute or so, and
// a baseline keeps out of incidents (it ends before the last one began): the healthy period
// before the last fault serves as the next one's baseline, which must fit between two faults.

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, '..', 'src', 'cli', 'main.js');
/** Requests a second on the entry services, at most; fewer when each request fans out widely (HOP_BUDGET). */
const MAX_RPS = 30;
/**
 * Calls a second the whole mesh may serve (every service's requests added up): two cores shared
 * with other work run a 45-instance mesh at this rate without starving it, so a fault's latency
 * is the fault's and not the machine's.
 */
const HOP_BUDGET = 200;
const BURST = 3;
const BASELINE_MS = 20_000;
const SLO = `closeAfterMs: 5000\nbaselineMs: ${BASELINE_MS}\n`;
/** Detection's warm-up is a window plus half a baseline (15 s here); the mesh's start settles meanwhile. */
const WARMUP_MS = 40_000;
/** No incident this long after an injection: not detected. */
const DETECT_TIMEOUT_MS = 30_000;
/** The ranking is redone every second as evidence accumulates: read it this long after the incident opened. */
const SETTLE_MS = 10_000;
const HEALTH_TIMEOUT_MS = 120_000;
/**
 * After health is back, a quiet moment: the aftermath of the last fault (an instance restarting,
 * ejections running out) settles. Baselines keep out of the last incident by themselves (they end
 * before it began while it is within a baseline's length), so this need not be a whole baseline.
 */
const QUIET_MS = 10_000;
/** How long before chaos records a fault in force its effect may begin (config applied, sidecars updated). */
const EARLY_MS = 1_000;
/** Chaos clears a fault by itself after this, whatever happens to the benchmark. */
const FAULT_DURATION_MS = 120_000;

/** The mesh could not be run: one line, a stable code. */
const benchError = (message: string) => new ExitError(EXIT_UNKNOWN_ERROR, [`Error: ${message} [E_BENCH_MESH]`]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Instance {
  name: string;
  namespace: string;
  workload: string;
  address: string;
  healthy: boolean;
  labels: Record<string, string>;
  ports: Array<{ port: number; protocol: string }>;
}

export interface LiveOptions {
  topology: string;
  scenarios: number;
  seed: number;
  /** Only these fault types (all the topology can host when absent). */
  faults?: readonly FaultType[];
  progress: (line: string) => void;
  emit: (record: Record<string, unknown>) => void;
}

export async function runLiveDiagnosis(o: LiveOptions) {
  const file = existsSync(o.topology) && statSync(o.topology).isDirectory() ? join(o.topology, 'topology.yaml') : o.topology;
  if (!existsSync(file)) throw new MeshmedicError('E_FILE_NOT_FOUND', `no topology at ${file}`);
  const { topology } = loadTopology(file);
  const RPS = entryRps(topology);
  const namespaceOf = (target: string) => {
    const name = target.split('->').pop()!.replace(/^[a-z]+\//, '');
    const svc = topology.services.find((s) => name === s.name || name.startsWith(`${s.name}-`));
    return svc ? svc.namespace : topology.services[0].namespace;
  };

  const home = mkdtempSync(join(tmpdir(), 'meshmedic-benchdiag-'));
  const env = { ...process.env, MESHMEDIC_HOME: home, MESHMEDIC_ADDRESS_BASE: process.env.MESHMEDIC_ADDRESS_BASE ?? '127.27' };
  const state = new StateDir(home);
  const cliSync = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', timeout: 180_000 });
  const pools: Pool[] = [];
  let loadTimer: NodeJS.Timeout | undefined;
  let stopped = false;
  const stopAll = () => {
    if (stopped) return;
    stopped = true;
    if (loadTimer) clearInterval(loadTimer);
    for (const p of pools) void p.destroy().catch(() => undefined);
    const down = cliSync(['down']);
    if (down.status !== 0) o.progress(`meshmedic down failed (${(down.stderr ?? '').trim().split('\n')[0]}); stopping the mesh's processes by pid`);
    for (const rec of [state.mesh(), state.controlPlane()]) if (rec && isAlive(rec.pid)) process.kill(rec.pid, 'SIGKILL');
    killStragglers(home);
    rmSync(home, { recursive: true, force: true });
  };
  const onSignal = (sig: NodeJS.Signals) => {
    o.progress(`${sig}: stopping the mesh`);
    stopAll();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const results: ScenarioResult[] = [];
  const scenarios: Scenario[] = [];
  let sent = 0;
  let failed = 0;
  try {
    writeFileSync(join(home, 'slo.yaml'), SLO);
    o.progress(`${file}: starting the mesh (MESHMEDIC_HOME ${home}, addresses ${env.MESHMEDIC_ADDRESS_BASE}.x.x)`);
    const up = await cliAsync(env, ['up', '-f', resolve(o.topology), '--timeout', '180']);
    if (up.code !== 0) throw benchError(`meshmedic up failed: ${up.stderr.trim().split('\n').pop()}`);
    const cp = state.liveControlPlane();
    if (!cp) throw benchError('the control plane is not running after up');
    // The control plane's API, retried for a while: a busy machine makes a slow answer, not a failed benchmark.
    const api = async <T>(path: string): Promise<T> => {
      for (let attempt = 1; ; attempt++) {
        try {
          const res = await request(`${cp.url}${path}`, { headers: cp.token ? { authorization: `Bearer ${cp.token}` } : {}, headersTimeout: 30_000, bodyTimeout: 30_000 });
          if (res.statusCode !== 200) throw new Error(`${path}: HTTP ${res.statusCode}`);
          return (await res.body.json()) as T;
        } catch (e) {
          if (attempt >= 4) throw benchError(`the control plane does not answer ${path}: ${(e as Error).message}`);
          await sleep(3000);
        }
      }
    };
    const registry = () => api<{ instances: Instance[] }>('/api/v1/registry').then((r) => r.instances);
    const initial = await registry();
    const topo: TopologyView = { instances: initial.map((i) => ({ namespace: i.namespace, name: i.name, workload: i.workload, service: i.labels.app })) };
    for (const h of externalHostsOf(topology)) {
      await callDaemon(home, 'POST', '/v1/stand-ins', { host: h.host, port: h.port, namespace: h.namespace });
      o.progress(`stand-in for ${h.host}:${h.port}`);
    }

    // Load: the entry services' instances, round robin; answers are dropped, failures counted.
    const entries = topology.services.filter((s) => s.isEntrypoint);
    const targets = initial.filter((i) => entries.some((s) => s.name === i.labels.app && s.namespace === i.namespace));
    if (targets.length === 0) throw benchError('the topology has no entry service (isEntrypoint: true)');
    for (const t of targets) pools.push(new Pool(`http://${t.address}:${t.ports[0].port}`, { connections: 16 }));
    let next = 0;
    loadTimer = setInterval(() => {
      for (let i = 0; i < BURST; i++) {
        sent++;
        pools[next++ % pools.length]
          .request({ method: 'GET', path: '/', signal: AbortSignal.timeout(5000) })
          .then((r) => (r.statusCode >= 500 && failed++, r.body.dump()), () => void failed++);
      }
    }, (1000 * BURST) / RPS);
    o.progress(`load: ${RPS} rps in bursts of ${BURST} on ${targets.map((t) => t.name).join(', ')}; warming up ${WARMUP_MS / 1000} s`);
    await sleep(WARMUP_MS);

    // What the load reaches, as the mesh measured it over the last 15 s of the warm-up.
    const rates = async (reporter: 'source' | 'destination', by: string): Promise<RateSample[]> => {
      const q = `sum by (${by}) (rate(istio_requests_total{reporter="${reporter}"}[15s]))`;
      const r = await api<{ data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }>(`/api/v1/query?query=${encodeURIComponent(q)}`);
      return r.data.result.map((x) => ({ labels: x.metric, value: Number(x.value[1]) }));
    };
    // A control plane too busy to answer leaves the topology's own estimate (routing config unknown).
    const measured = await Promise.all([
      rates('destination', 'pod, namespace, destination_workload, destination_service_name'),
      rates('source', 'source_workload, source_workload_namespace, destination_service_name, destination_service_namespace, destination_service'),
    ]).then(([d, src]) => measuredRates(d, src), (e: Error) => {
      o.progress(`warning: could not read the measured rates (${e.message}); targets from the topology's estimate`);
      return modelRates(topology, RPS);
    });
    const space = scenarioSpace(topology, measured);
    // Nothing measured at all: the store is behind (a starved control plane), not the load absent.
    // A fault type the topology hosts but no measured target reached (its traffic was caught in a
    // slow second of a starved control plane): its targets from the estimate. Either way every
    // type the topology can host is covered.
    const nothingMeasured = Object.keys(space).length === 0;
    if (nothingMeasured) o.progress('warning: the measured rates reach no target; targets from the topology\'s estimate');
    const estimated = scenarioSpace(topology, modelRates(topology, RPS));
    for (const f of Object.keys(estimated) as Array<keyof typeof estimated>) {
      if (space[f]?.length) continue;
      space[f] = estimated[f];
      if (!nothingMeasured) o.progress(`warning: no measured target of ${f} reaches ${MIN_RPS} rps; its targets from the topology's estimate`);
    }
    if (o.faults) for (const f of Object.keys(space) as FaultType[]) if (!o.faults.includes(f)) delete space[f];
    scenarios.push(...generateScenarios(space, namespaceOf, o.scenarios, o.seed));
    o.progress(`${Object.keys(space).length} fault types hostable at the measured rates (${Object.entries(space).map(([f, ts]) => `${f}: ${ts!.length}`).join(', ')}); ${scenarios.length} scenarios, seed ${o.seed}`);

    const openIncidents = async () => (await api<{ incidents: Array<{ id: string; status: string; namespace: string; openedAt: number }> }>('/api/v1/incidents?status=open')).incidents.filter((i) => i.status === 'open');
    const healthy = async () => {
      const [open, inst] = await Promise.all([openIncidents(), registry()]);
      const known = new Set(topo.instances.map((i) => `${i.name}.${i.namespace}`));
      return open.length === 0 && inst.filter((i) => known.has(`${i.name}.${i.namespace}`)).every((i) => i.healthy) && inst.every((i) => known.has(`${i.name}.${i.namespace}`));
    };
    // Healthy, and still so after a quiet moment: an incident that opens meanwhile (a busy
    // machine's slow second) would take in a fault injected within two windows of its opening.
    const waitHealthy = async () => {
      const deadline = Date.now() + HEALTH_TIMEOUT_MS;
      for (;;) {
        while (!(await healthy())) {
          if (Date.now() > deadline) return false;
          await sleep(500);
        }
        await sleep(QUIET_MS);
        if (await healthy()) return true;
      }
    };
    if (!(await waitHealthy())) o.progress('warning: the mesh was not healthy after warm-up (an incident stays open)');

    for (const sc of scenarios) {
      const r = await runScenario(sc, home, api, topo, o.progress);
      results.push(r);
      o.emit({ ...r, scenario: sc.index, params: sc.params });
      if (!(await waitHealthy())) o.progress(`warning: not healthy ${HEALTH_TIMEOUT_MS / 1000} s after clearing scenario ${sc.index}`);
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    stopAll();
  }
  return { topology: file, seed: o.seed, load: { rps: RPS, burst: BURST, sent, failed }, ...summarize(results) };
}

async function runScenario(sc: Scenario, home: string, api: <T>(p: string) => Promise<T>, topo: TopologyView, progress: (s: string) => void): Promise<ScenarioResult> {
  const base: ScenarioResult = { fault: sc.fault, target: sc.target, detectedMs: null, top3: [], correct1: false, correct3: false };
  let inj: Injection;
  const askedAt = Date.now();
  try {
    const params = parseParams(sc.fault, sc.params as RawParams);
    inj = (await callDaemon<{ injection: Injection }>(home, 'POST', '/v1/chaos/injections', { type: sc.fault, target: sc.target, namespace: sc.namespace, durationMs: FAULT_DURATION_MS, params })).injection;
  } catch (e) {
    progress(`#${sc.index} ${sc.fault} ${sc.target}: could not inject: ${(e as Error).message}`);
    return { ...base, notInjected: (e as Error).message };
  }
  try {
    // The first incident opened after the fault took effect: chaos records it in force once its
    // last step is done (a bad version's route shift comes after its instance started, which may
    // take seconds), and a config change acts a moment before that; an incident opened earlier
    // than EARLY_MS before it is not this fault's (the fault then joined it: not detected).
    const deadline = Date.now() + DETECT_TIMEOUT_MS;
    let opened: { id: string; openedAt: number } | undefined;
    while (!opened && Date.now() < deadline) {
      const list = await api<{ incidents: Array<{ id: string; openedAt: number; namespace: string }> }>('/api/v1/incidents?limit=5');
      opened = list.incidents.filter((i) => i.openedAt >= Math.max(askedAt, inj.startedAt - EARLY_MS)).sort((a, b) => a.openedAt - b.openedAt)[0];
      if (!opened) await sleep(200);
    }
    if (!opened) {
      progress(`#${sc.index} ${sc.fault} ${sc.target}: no incident within ${DETECT_TIMEOUT_MS / 1000} s`);
      return { ...base, injectedAt: new Date(inj.startedAt).toISOString() };
    }
    const detectedMs = opened.openedAt - inj.startedAt;
    await sleep(Math.max(0, opened.openedAt + SETTLE_MS - Date.now()));
    const incident = await api<Incident>(`/api/v1/incidents/${opened.id}`);
    const expected = inj.expectedCause as unknown as Expected;
    const rank = matchRank(incident.causes, expected, topo);
    const top3 = incident.causes.slice(0, 3).map((c) => `${describeTarget(c.target)} [${c.mechanism ?? '-'} ${c.score.toFixed(2)}]`);
    progress(`#${sc.index} ${sc.fault} ${sc.target}: detected +${detectedMs} ms, rank ${rank || '-'} (expected ${inj.expectedCause.label}); top ${top3[0] ?? '(none)'}`);
    return { ...base, injectedAt: new Date(inj.startedAt).toISOString(), detectedMs, top3, correct1: rank === 1, correct3: rank >= 1 && rank <= 3 };
  } finally {
    await callDaemon(home, 'DELETE', `/v1/chaos/injections/${encodeURIComponent(inj.id)}`).catch((e: Error) => progress(`#${sc.index}: clear failed: ${e.message}`));
  }
}

/**
 * Every process still running with this run's MESHMEDIC_HOME (the mesh's sidecars and
 * applications inherit it) once `down` is done: a daemon killed by pid leaves its children
 * behind. SIGTERM, then SIGKILL a moment later; by pid, found in /proc (Linux; elsewhere a no-op).
 */
function killStragglers(home: string): void {
  const marker = `MESHMEDIC_HOME=${home}`;
  const mine = (): number[] => {
    if (!existsSync('/proc')) return [];
    return readdirSync('/proc').filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid).map(Number).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(marker);
      } catch {
        return false; // gone, or not ours to read
      }
    });
  };
  const signal = (pids: number[], sig: NodeJS.Signals) => pids.forEach((pid) => { try { process.kill(pid, sig); } catch { /* already gone */ } });
  signal(mine(), 'SIGTERM');
  const deadline = Date.now() + 3000;
  while (mine().length && Date.now() < deadline) spawnSync('sleep', ['0.2']);
  signal(mine(), 'SIGKILL');
}

/** The entry rate: MAX_RPS, or less so that the calls it causes stay within HOP_BUDGET. */
export function entryRps(t: Topology): number {
  const perRequest = [...trafficOf(t, 1).serviceRps.values()].reduce((a, b) => a + b, 0);
  return Math.max(BURST, Math.min(MAX_RPS, Math.floor(HOP_BUDGET / Math.max(1, perRequest))));
}

/** The CLI as a child process, without blocking the event loop (the load keeps its pace). */
function cliAsync(env: NodeJS.ProcessEnv, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c) => (stdout += c));
    p.stderr.on('data', (c) => (stderr += c));
    p.on('close', (code) => res({ code, stdout, stderr }));
  });
}

export const diagnosisLiveBench: Benchmark = {
  description: 'live diagnosis: --topology FILE|DIR under load, --scenarios N random faults (--seed S) one at a time; AC@1/3 and MTTD',
  streams: true,
  async run({ topology, scenarios, faults, seed, progress, emit }) {
    if (!topology) throw new ExitError(EXIT_INCORRECT_USAGE, ['Error: bench diagnosis needs --topology FILE|DIR [E_USAGE]']);
    const n = scenarios === undefined ? 20 : scenarios.length === 1 && /^\d+$/.test(scenarios[0]) ? Number(scenarios[0]) : NaN;
    if (!(n >= 1)) throw new ExitError(EXIT_INCORRECT_USAGE, [`Error: --scenarios must be how many faults to inject (a whole number, 1 or more), got ${scenarios?.join(',')} [E_USAGE]`]);
    const unknown = (faults ?? []).filter((f) => !(FAULT_TYPES as readonly string[]).includes(f));
    if (unknown.length) throw new ExitError(EXIT_INCORRECT_USAGE, [`Error: --faults: unknown fault type ${unknown.join(', ')} (have: ${FAULT_TYPES.join(', ')}) [E_USAGE]`]);
    return runLiveDiagnosis({ topology, scenarios: n, seed: seed ?? 1, ...(faults && { faults: faults as FaultType[] }), progress, emit: emit ?? (() => undefined) });
  },
};
