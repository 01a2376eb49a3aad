import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputErrors, MeshmedicError } from '../api/errors.js';
import { runControlPlane, type Retention } from '../platform/local/controlplane-process.js';
import { durationMs } from '../util/duration.js';
import { startMeshDaemon } from '../platform/local/mesh-daemon.js';
import { planLocalMesh, topologyFileOf } from '../platform/local/mesh-plan.js';
import { isAlive, StateDir } from '../platform/local/state-dir.js';
import { dashboardUrl } from '../dashboard/dashboard-url.js';
import { callApi, stateDirOption } from './mesh-client.js';
import { EXIT_DATA_ERROR, EXIT_UNKNOWN_ERROR, ExitError, usageError } from './exit-codes.js';
import { applyFiles } from './apply.js';
import { otlpEndpointOption } from './trace.js';

// `up`, `down`, `status`, and the two processes `up` leaves running (hidden commands).

const CLI_MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

function resolveTopologies(paths: string[]): string[] {
  return paths.map((p) => {
    if (!existsSync(p)) throw new ExitError(EXIT_DATA_ERROR, [`Error: ${p}: no such file or directory [E_FILE_NOT_FOUND]`]);
    return resolve(topologyFileOf(p, statSync(p).isDirectory()));
  });
}

/** Istio config that ships next to a topology: `<dir>/istio/` when -f names a directory. */
function bundledConfig(paths: string[]): string[] {
  return paths.filter((p) => statSync(p).isDirectory() && existsSync(`${p}/istio`)).map((p) => `${p}/istio`);
}

async function waitFor(what: string, check: () => Promise<string | undefined>, timeoutMs: number, progress: (s: string) => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const state = await check().catch((e: Error) => `waiting (${e.message})`);
    if (state === undefined) return;
    if (state !== last) progress(`  ${what}: ${state}`);
    last = state;
    if (Date.now() > deadline) throw new ExitError(EXIT_UNKNOWN_ERROR, [`Error: ${what} not ready after ${timeoutMs / 1000} s (${state}); see the logs in the state directory`]);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Log lines of the background processes: timestamped, to their log file (stdout). */
function timestamped(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

/** Resolves on SIGTERM or SIGINT: the background processes run until asked to stop. */
function untilSignal(): Promise<void> {
  return new Promise((res) => {
    process.once('SIGTERM', () => res());
    process.once('SIGINT', () => res());
  });
}

export function registerMeshLifecycle(program: Command): void {
  program
    .command('up')
    .description('Start the local mesh: control plane, and a sidecar and application process per workload instance')
    .option('-f, --filename <path>', 'topology file, or a directory with topology.yaml (and istio/ config); repeatable', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--config <dir>', 'Istio config to apply once the mesh runs (files or directories)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--state-dir <dir>', 'state directory (default .meshmedic, or $MESHMEDIC_HOME)')
    .option('--timeout <seconds>', 'how long to wait for every instance to be ready', '60')
    .option('--otlp-endpoint <url>', 'export trace spans to an OpenTelemetry collector (OTLP/HTTP, JSON), e.g. http://127.0.0.1:4318')
    .option('--metrics-retention <duration>', 'how long the embedded store keeps 1 s samples (default 1h; older ones are kept at 1 min)')
    .option('--trace-retention <duration>', 'how long the control plane keeps traces (default 1h)')
    .option('--auto-recover', 'let the control plane carry out recovery plans by itself (default: it proposes, `meshmedic recover` runs them)')
    .action(async (opts) => {
      const state = stateDirOption(opts).ensure();
      const running = state.liveMesh();
      if (running) throw new ExitError(EXIT_UNKNOWN_ERROR, [`Error: a mesh is already running (pid ${running.pid}); stop it with: meshmedic down`]);
      if (opts.filename.length === 0) throw usageError('give at least one topology: meshmedic up -f examples/bookinfo');
      const topologies = resolveTopologies(opts.filename);
      const otlp: string[] = [
        ...(opts.otlpEndpoint ? ['--otlp-endpoint', otlpEndpointOption(opts.otlpEndpoint)] : []),
        ...(opts.metricsRetention ? ['--metrics-retention', String(retentionOption('--metrics-retention', opts.metricsRetention))] : []),
        ...(opts.traceRetention ? ['--trace-retention', String(retentionOption('--trace-retention', opts.traceRetention))] : []),
      ];
      let instances = 0;
      try {
        instances = planLocalMesh(state.root, topologies).instances.length; // validates the topologies before starting anything
      } catch (e) {
        if (e instanceof InputErrors) throw new ExitError(EXIT_DATA_ERROR, e.errors.map((x) => `Error: ${x.format()}`));
        if (e instanceof MeshmedicError) throw new ExitError(EXIT_DATA_ERROR, [`Error: ${e.format()}`]);
        throw e;
      }
      const port = await freePort();
      const log = openSync(`${state.logsDir}/mesh.log`, 'a');
      const daemon = spawn(process.execPath, [CLI_MAIN, 'mesh-daemon', '--state-dir', state.root, '--port', String(port), ...otlp, ...topologies], { detached: true, stdio: ['ignore', log, log], env: { ...process.env, ...(opts.autoRecover && { MESHMEDIC_AUTO_RECOVER: '1' }) } });
      closeSync(log);
      daemon.unref();
      const say = (s: string) => process.stderr.write(`${s}\n`);
      say(`Starting the mesh (${instances} instances, state in ${state.root})...`);
      const timeoutMs = Number(opts.timeout) * 1000;
      await waitFor('control plane', async () => (state.liveControlPlane() ? undefined : isAlive(daemon.pid!) ? 'starting' : 'the mesh process exited; see mesh.log'), timeoutMs, say);
      const cp = state.liveControlPlane()!;
      await waitFor('instances', async () => {
        const s = await callApi<{ proxies: Array<{ status: string }> }>(cp, 'GET', '/api/v1/proxy-status');
        const reg = await callApi<{ instances: Array<{ healthy: boolean }> }>(cp, 'GET', '/api/v1/registry');
        const synced = s.proxies.filter((p) => p.status === 'SYNCED').length;
        const healthy = reg.instances.filter((i) => i.healthy).length;
        return synced === instances && healthy === instances ? undefined : `${synced}/${instances} sidecars synced, ${healthy}/${instances} applications ready`;
      }, timeoutMs, say);
      const config = [...bundledConfig(opts.filename), ...opts.config];
      if (config.length) await applyFiles(cp, config, 'default', false);
      say(`\u2714 mesh is up: control plane ${cp.url}, ${instances} instances ready`);
      process.stdout.write(`Dashboard: ${dashboardUrl(cp)}\n`);
      process.stdout.write(`Try: meshmedic status; meshmedic proxy-status; curl http://<address>:<port>/ (addresses in: meshmedic status)\n`);
    });

  program
    .command('down')
    .description('Stop the local mesh and every process it started')
    .option('--state-dir <dir>', 'state directory')
    .action(async (opts) => {
      const state = stateDirOption(opts);
      const mesh = state.liveMesh();
      if (!mesh) {
        process.stderr.write('No mesh is running.\n');
        return;
      }
      process.kill(mesh.pid, 'SIGTERM');
      const deadline = Date.now() + 20_000;
      while (isAlive(mesh.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      if (isAlive(mesh.pid)) process.kill(mesh.pid, 'SIGKILL');
      process.stderr.write('\u2714 mesh stopped\n');
    });

  program
    .command('mesh-daemon', { hidden: true })
    .option('--state-dir <dir>')
    .option('--port <port>')
    .option('--otlp-endpoint <url>')
    .option('--metrics-retention <ms>')
    .option('--trace-retention <ms>')
    .argument('<topologies...>')
    .action(async (topologies: string[], opts) => {
      const state = new StateDir(opts.stateDir).ensure();
      const log = timestamped;
      state.saveMesh({ pid: process.pid, port: Number(opts.port), topologies, startedAt: new Date().toISOString() });
      const daemon = await startMeshDaemon({ state, topologies, port: Number(opts.port), log, otlpEndpoint: opts.otlpEndpoint, retention: retentionsOf(opts) });
      await untilSignal();
      log('stopping');
      await daemon.stop();
      state.clearMesh();
      state.clearControlPlane();
      rmSync(`${state.root}/config.yaml`, { force: true });
      rmSync(state.socketsDir, { recursive: true, force: true });
      log('stopped');
    });

  program
    .command('controlplane', { hidden: true })
    .option('--state-dir <dir>')
    .option('--port <port>')
    .option('--otlp-endpoint <url>')
    .option('--metrics-retention <ms>')
    .option('--trace-retention <ms>')
    .argument('<topologies...>')
    .action(async (topologies: string[], opts) => {
      const state = new StateDir(opts.stateDir).ensure();
      const stop = await runControlPlane({ state, topologies, port: Number(opts.port), log: timestamped, otlpEndpoint: opts.otlpEndpoint, retention: retentionsOf(opts) });
      await untilSignal();
      await stop();
    });
}

/** A retention flag of `up` in ms (at least one minute: the detection and graph windows need that much). */
function retentionOption(flag: string, text: string): number {
  const ms = durationMs(text);
  if (ms === undefined || ms < 60_000) throw usageError(`${flag}: want a duration of at least 1m (e.g. 10m, 1h), got "${text}"`);
  return ms;
}

/** The retentions the daemon and the control-plane process were given (ms, as `up` passed them). */
function retentionsOf(opts: { metricsRetention?: string; traceRetention?: string }): Retention {
  return {
    ...(opts.metricsRetention !== undefined && { metricsMs: Number(opts.metricsRetention) }),
    ...(opts.traceRetention !== undefined && { tracesMs: Number(opts.traceRetention) }),
  };
}
