import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Pool } from 'undici';
import type { WorkloadInstance } from '../../src/api/snapshot.js';
import { readApiToken } from '../../src/dashboard/access-token.js';
import { DiagnosisService, type DiagnosisReport } from '../../src/diagnosis/diagnosis-service.js';
import { describeTarget } from '../../src/diagnosis/model.js';
import { callDaemon } from '../../src/platform/local/daemon-client.js';
import { isAlive, StateDir } from '../../src/platform/local/state-dir.js';
import type { Injection } from '../../src/platform/local/chaos/types.js';
import { systemClock } from '../../src/proxy/clock.js';
import { PrometheusSource } from '../../src/telemetry/prometheus/prometheus-source.js';
import { targetForInstance } from '../../src/telemetry/scrape/targets.js';
import { runCli } from '../cli/helpers.js';
import { ensurePrometheusInstalled, prometheusConfig, startPrometheus, type PrometheusServer } from '../telemetry/prometheus-server-fixture.js';
import { runCliAsync } from './cli-async.js';
import { startRecordedApiServer, type RecordedApiServer } from './recorded-api-server.js';

// Done when: the same fault scenario on the local mesh, diagnosed through the embedded store
// and through Prometheus, gives the same top cause. A small mesh (front -> api -> store v1/v2)
// runs on the local mesh under load; a real Prometheus (Debian's) scrapes its sidecars with the
// labels Istio's addon gives pods; store-v2 starts answering 500. The same diagnosis engine,
// with the same registry, ranks the
// causes twice at the same instant over the same windows: once reading the control plane's
// embedded store (through its Prometheus-compatible API), once reading Prometheus. Then the
// kube CLI path (`analyze --platform kube --prometheus`, cluster state from the recorded API
// server) must name that cause too. Bounded: every wait has a deadline, all processes stopped.

const PROM_LISTEN = '127.10.40.50:9090';
const home = mkdtempSync(join(tmpdir(), 'mm-kube-prom-'));
const env = { MESHMEDIC_HOME: home, MESHMEDIC_ADDRESS_BASE: '127.40' };
const state = new StateDir(home);
const cli = (args: string[]) => runCli(args, undefined, env);

let prom: PrometheusServer | undefined;
let api: RecordedApiServer | undefined;
let pool: Pool | undefined;
let running = true;
let loops: Promise<void>[] = [];
let instances: WorkloadInstance[] = [];
let controlPlane: { url: string; token?: string };
/** Every process the mesh daemon supervises (sidecars, applications), killed by PID in after() if `down` left any. */
let pids: number[] = [];

const TOPOLOGY = `
defaults:
  namespace: shop
services:
- name: front
  isEntrypoint: true
  latency: 2ms
  script:
  - call: {service: api, timeout: 2s}
- name: api
  numReplicas: 2
  latency: 5ms
  script:
  - call: {service: store, timeout: 1s}
- name: store
  latency: 3ms
  versions:
  - name: v1
    replicas: 1
  - name: v2
    replicas: 1
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  ensurePrometheusInstalled();
  writeFileSync(join(home, 'topology.yaml'), TOPOLOGY);
  const up = cli(['up', '-f', join(home, 'topology.yaml'), '--timeout', '60']);
  assert.equal(up.code, 0, `meshmedic up: ${up.stderr}`);
  const status = JSON.parse(cli(['status', '-o', 'json']).stdout) as { controlPlane: { url: string }; instances: WorkloadInstance[] };
  instances = status.instances;
  controlPlane = { url: status.controlPlane.url, token: readApiToken(home) };
  pids = (await callDaemon<{ processes: Array<{ pid?: number }> }>(home, 'GET', '/v1/processes')).processes.map((p) => p.pid).filter((p): p is number => typeof p === 'number');
  assert.ok(pids.length >= 10, `the daemon supervises the sidecars and applications (${pids.length} pids)`);
  // Istio's addon scrape job: every sidecar, with the labels its relabelling gives a pod.
  const targets = instances.map((i) => {
    const { job: _j, instance: _i, ...labels } = targetForInstance(i).labels;
    return { address: `${i.address}:15090`, labels };
  });
  prom = await startPrometheus(PROM_LISTEN, prometheusConfig(targets));
  api = await startRecordedApiServer('127.10.40.51');
  const front = instances.find((i) => i.name === 'front-v1-0')!;
  pool = new Pool(`http://${front.address}:8080`, { connections: 4 });
  const loop = async () => {
    while (running) {
      await pool!.request({ method: 'GET', path: '/' }).then((r) => r.body.dump(), () => undefined);
      await sleep(25);
    }
  };
  loops = [loop(), loop()];
});

after(async () => {
  running = false;
  await Promise.all(loops);
  await pool?.close();
  await prom?.stop();
  await api?.close();
  cli(['chaos', 'clear', '--all']);
  cli(['down']);
  for (const rec of [state.mesh(), state.controlPlane()]) if (rec && isAlive(rec.pid)) process.kill(rec.pid, 'SIGKILL');
  for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

async function diagnoseWith(metrics: PrometheusSource, at: number, windowMs: number): Promise<DiagnosisReport> {
  const d = new DiagnosisService({ metrics, instances: () => instances }, systemClock, { detection: false, outlierEvents: false });
  try {
    return await d.diagnose({ namespace: 'shop', at, windowMs });
  } finally {
    await d.stop();
    await metrics.close();
  }
}

async function samples(source: PrometheusSource): Promise<number> {
  const r = await source.query('min(count_over_time(up{namespace="shop"}[60s]))');
  return r.resultType === 'vector' && r.result.length ? r.result[0].value[1] : 0;
}

test('a bad workload: the embedded store and Prometheus give the same top cause', { timeout: 150_000 }, async (ctx) => {
  const embedded = () => new PrometheusSource({ url: controlPlane.url, ...(controlPlane.token && { headers: { authorization: `Bearer ${controlPlane.token}` } }) });
  const fromProm = () => new PrometheusSource({ url: prom!.url });
  // A baseline on both sides before the fault (bounded wait).
  const deadline = Date.now() + 60_000;
  for (;;) {
    const [a, b] = [await samples(embedded()), await samples(fromProm())];
    if (a >= 20 && b >= 20) break;
    assert.ok(Date.now() < deadline, `no 20 s baseline within 60 s (embedded ${a}, Prometheus ${b})\n${prom!.log().slice(-1000)}`);
    await sleep(1000);
  }
  const out = cli(['chaos', 'inject', 'error-rate', '-t', 'workload/store-v2', '-n', 'shop', '--status', '500', '-d', '60s', '-o', 'json']);
  assert.equal(out.code, 0, out.stderr);
  const inj = JSON.parse(out.stdout) as Injection;
  const windowMs = 12_000;
  const at = inj.startedAt + windowMs;
  // Both sides must hold the window's last scrapes (1 s interval) before it is read.
  while (Date.now() < at + 2500) await sleep(250);

  const [e, p] = [await diagnoseWith(embedded(), at, windowMs), await diagnoseWith(fromProm(), at, windowMs)];
  const top = (r: DiagnosisReport) => (r.causes[0] ? `${describeTarget(r.causes[0].target)} (${r.causes[0].mechanism})` : 'none');
  ctx.diagnostic(`embedded: ${r3(e)}`);
  ctx.diagnostic(`Prometheus: ${r3(p)}`);
  assert.ok(e.causes.length > 0 && p.causes.length > 0, `both rank causes\nembedded: ${JSON.stringify(e.detections)} ${e.notes}\nPrometheus: ${JSON.stringify(p.detections)} ${p.notes}`);
  assert.equal(top(p), top(e), 'the same top cause');
  const t = e.causes[0].target;
  assert.ok(t.service === 'store' && (t.version === 'v2' || t.workload === 'store-v2'), `the injected culprit (${inj.expectedCause.label}) is the top cause: ${top(e)}`);
  assert.ok(p.detections.length > 0 && e.detections.length > 0, 'both see the SLO fail');

  // The kube CLI: cluster state from the (recorded) API server, metrics from Prometheus.
  const r = await runCliAsync(['analyze', '--platform', 'kube', '--kubeconfig', api!.kubeconfig, '--prometheus', prom!.url, '-n', 'shop', '--window', '10s', '-o', 'json'], { MESHMEDIC_HOME: join(home, 'kube') });
  assert.equal(r.code, 79, `analyze exits 79 with runtime issues:\n${r.stderr}`);
  const report = JSON.parse(r.stdout) as { staticFindings: unknown[]; runtime: DiagnosisReport };
  assert.equal(top(report.runtime), top(p), 'analyze --platform kube --prometheus names the same top cause');
  assert.ok(report.runtime.queries.length > 0 && Array.isArray(report.staticFindings));
});

function r3(r: DiagnosisReport): string {
  return r.causes.slice(0, 3).map((c) => `${describeTarget(c.target)} [${c.mechanism}] ${c.score.toFixed(3)}`).join(' | ');
}
