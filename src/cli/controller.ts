import type { Command } from 'commander';
import { join } from 'node:path';
import { KubeController } from '../platform/kube/kube-controller.js';
import { ZipkinTraceSource } from '../platform/kube/zipkin-traces.js';
import { StateDir } from '../platform/local/state-dir.js';
import { DEFAULT_SETTINGS, loadSettingsFile } from '../recovery/settings.js';
import { PrometheusSource } from '../telemetry/prometheus/prometheus-source.js';
import { parseDurationMs } from '../telemetry/promql/duration.js';
import { usageError } from './exit-codes.js';
import { kubeClient, platformOptions, withKubeErrors } from './platform-options.js';
import { readCauses } from './recover-kube.js';

// `meshmedic controller --platform kube --prometheus URL [--auto-recover]`: meshmedic in the
// cluster (deploy/kubernetes runs it as a Deployment). Watches the cluster and records the
// history of its Istio config, diagnoses every --interval through Prometheus, and plans recovery
// for each incident: recorded as proposals (manual mode, the default), or carried out, verified
// and rolled back when they do not help (--auto-recover), under recovery's safety limits, with
// every step in the audit log of the state database (--state-dir, $MESHMEDIC_HOME). Runs until
// SIGTERM or SIGINT. --causes FILE acts on given ranked causes instead of diagnosing (a
// diagnosis made elsewhere: `analyze -o json` output).

export function registerController(program: Command): void {
  program
    .command('controller')
    .description('kube: watch the cluster, diagnose through Prometheus and propose (or, with --auto-recover, carry out) recovery; runs until stopped')
    .option('--auto-recover', 'apply, verify and roll back plans by itself (default: record them as proposals)')
    .option('--interval <duration>', 'how often to diagnose and plan', '15s')
    .option('-n, --namespace <ns>', 'diagnose and recover this namespace only (default: all)')
    .option('--causes <file>', 'act on these ranked causes (analyze -o json output, an incident, or a list) instead of diagnosing')
    .option('--settings <file>', 'recovery settings (recovery.yaml): safety limits, verification window')
    .option('--state-dir <dir>', 'state directory: the config history, incidents and audit log (meshmedic.db)')
    .action(async (opts, cmd: Command) => {
      const p = platformOptions(cmd);
      if (p.platform !== 'kube') throw usageError('controller runs against a cluster: give --platform kube (the local mesh has its own control plane: meshmedic up)');
      if (!p.prometheus && !opts.causes) throw usageError('controller needs causes: --prometheus URL (diagnose) or --causes FILE');
      const intervalMs = parseDurationMs(opts.interval);
      if (intervalMs === undefined || intervalMs < 1000 || intervalMs > 3_600_000) throw usageError(`--interval "${opts.interval}" must be a duration from 1s to 1h (15s, 1m)`);
      const settings = opts.settings ? loadSettingsFile(opts.settings) : DEFAULT_SETTINGS;
      const causes = opts.causes ? readCauses(opts.causes) : undefined;
      const state = new StateDir(opts.stateDir);
      await withKubeErrors(async () => {
        const metrics = p.prometheus ? new PrometheusSource({ url: p.prometheus }) : undefined;
        const traces = p.traces ? new ZipkinTraceSource({ url: p.traces }) : undefined;
        // One line per event: the stack of a failed round (Prometheus unreachable, ...) only with MESHMEDIC_DEBUG.
        const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${process.env.MESHMEDIC_DEBUG ? line : line.split('\n')[0]}\n`);
        const controller = new KubeController(kubeClient(p), {
          databaseFile: join(state.root, 'meshmedic.db'), metrics, traces, causes, namespace: opts.namespace,
          auto: !!opts.autoRecover, intervalMs, settings, log,
        });
        // The loop's timers are unref'd (systemClock): this one keeps the process until a signal.
        const keepAlive = setInterval(() => undefined, 60_000);
        const stopped = new Promise<string>((resolve) => {
          for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => resolve(sig));
        });
        try {
          await controller.start();
          log(`controller: running (state ${state.root}); stop with SIGTERM`);
          log(`controller: ${await stopped}: stopping`);
        } finally {
          clearInterval(keepAlive);
          await controller.stop();
          await metrics?.close();
        }
      });
    });
}
