import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ControlPlane } from '../../controlplane/control-plane.js';
import { loadSloFile } from '../../diagnosis/detection/slo.js';
import { parseText } from '../../config/loader.js';
import { planLocalMesh } from './mesh-plan.js';
import { ReadinessProber } from './readiness.js';
import type { StateDir } from './state-dir.js';
import { loadOrCreateApiToken } from '../../dashboard/access-token.js';
import { loadSettingsFile, DEFAULT_SETTINGS } from '../../recovery/settings.js';

// The control plane of the local mesh, as its own process (supervised like every other): it
// serves xDS and the API, registers the planned instances, probes their readiness and keeps
// the applied config in the state directory, so that when it is killed and restarted it comes
// back on the same port with the same config, and sidecars, which kept routing meanwhile,
// reconnect and resync.

export interface ControlPlaneProcessOptions {
  state: StateDir;
  topologies: string[];
  port: number;
  log: (line: string) => void;
  /** OTLP/HTTP collector for trace spans (`up --otlp-endpoint`). */
  otlpEndpoint?: string;
  retention?: Retention;
}

/** Retention of the control plane's metrics (1 s samples) and traces, in ms. */
export interface Retention {
  metricsMs?: number;
  tracesMs?: number;
}

export async function runControlPlane(opts: ControlPlaneProcessOptions): Promise<() => Promise<void>> {
  const { state } = opts;
  const configFile = join(state.root, 'config.yaml');
  const plan = planLocalMesh(state.root, opts.topologies);
  // Incidents go to the state directory's database (shared with chaos's records); an `slo.yaml` there sets the checks' thresholds.
  const sloFile = join(state.root, 'slo.yaml');
  const diagnosis = { databaseFile: join(state.root, 'meshmedic.db'), ...(existsSync(sloFile) && { slo: loadSloFile(sloFile) }) };
  // Recovery: `<state>/recovery.yaml` sets its limits and mode; `up --auto-recover` (MESHMEDIC_AUTO_RECOVER=1, inherited through the mesh daemon) turns auto mode on.
  const recoveryFile = join(state.root, 'recovery.yaml');
  const settings = existsSync(recoveryFile) ? loadSettingsFile(recoveryFile) : DEFAULT_SETTINGS;
  const recovery = { databaseFile: diagnosis.databaseFile, stateRoot: state.root, settings: { ...settings, ...(process.env.MESHMEDIC_AUTO_RECOVER === '1' && { auto: true }) } };
  const r = opts.retention ?? {};
  const token = loadOrCreateApiToken(state.root);
  const cp = new ControlPlane({
    port: opts.port,
    token,
    tracing: { otlpEndpoint: opts.otlpEndpoint, ...(r.tracesMs && { store: { retentionMs: r.tracesMs } }) },
    ...(r.metricsMs && { metrics: { store: { rawRetentionMs: r.metricsMs } } }),
    diagnosis,
    recovery,
    // The mesh CA keeps its root and the sidecars' bootstrap secret in the state directory (0600).
    security: { stateDir: state.root },
    log: opts.log,
  });
  if (existsSync(configFile)) {
    const saved = parseText(readFileSync(configFile, 'utf8'), configFile, { defaultNamespace: 'default' });
    if (saved.errors.length) throw new Error(`saved config ${configFile} is damaged: ${saved.errors[0].format()}`);
    cp.store.apply(saved.resources);
  }
  cp.store.apply(plan.resources);
  // Unknown readiness at start: instances get traffic once their application answers.
  for (const p of plan.instances) cp.registry.upsert({ ...p.instance, healthy: false });
  const persist = () => {
    const tmp = `${configFile}.tmp`;
    writeFileSync(tmp, cp.store.all().map((r) => stringify(r.raw)).join('---\n'), { mode: 0o600 });
    renameSync(tmp, configFile);
  };
  persist();
  cp.store.watch(persist);
  // One round of probes before xDS is served: after a restart, sidecars that reconnect must
  // get the endpoints that are serving, not a snapshot in which every instance is still unknown
  // (which would answer "no healthy upstream" until the first probe came back).
  const prober = new ReadinessProber(cp, plan.instances);
  await prober.probeAll();
  const { url } = await cp.start();
  prober.start();
  state.saveControlPlane({ pid: process.pid, url, token, startedAt: new Date().toISOString() });
  opts.log(`control plane on ${url}: ${plan.instances.length} instances, config version ${cp.store.version}`);
  return async () => {
    prober.stop();
    await cp.stop();
  };
}
