import { Option, type Command } from 'commander';
import { KubeError } from '../platform/kube/errors.js';
import { KubeClient } from '../platform/kube/kube-client.js';
import { loadKubeConfig } from '../platform/kube/kubeconfig.js';
import { MetricsQueryError } from '../telemetry/metrics-source.js';
import { EXIT_UNKNOWN_ERROR, ExitError, usageError } from './exit-codes.js';

// Options every command shares: which platform the mesh runs on (`local`: the mesh `meshmedic up`
// started; `kube`: Istio on Kubernetes, read and written through the Kubernetes API), how to
// reach the cluster (kubectl's --kubeconfig and --context) and Prometheus (--prometheus: the
// metrics of an Istio mesh). Commands read them with `platformOptions(cmd)`.

export type PlatformName = 'local' | 'kube';

export interface PlatformOptions {
  platform: PlatformName;
  kubeconfig?: string;
  context?: string;
  istioNamespace: string;
  prometheus?: string;
  /** A Zipkin v2 query API (Istio's Zipkin addon): traces for diagnosis on a cluster. */
  traces?: string;
}

export function addPlatformOptions(program: Command): void {
  program
    .addOption(new Option('--platform <name>', 'where the mesh runs: local (meshmedic up) or kube (Istio on Kubernetes)').choices(['local', 'kube']).env('MESHMEDIC_PLATFORM').default('local'))
    .option('--kubeconfig <file>', 'kube: kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the pod\'s service account)')
    .option('--context <name>', 'kube: kubeconfig context to use')
    .option('--istio-namespace <ns>', 'kube: the namespace istiod runs in (its ConfigMap `istio` holds the mesh config)', 'istio-system')
    .addOption(new Option('--prometheus <url>', 'kube: Prometheus scraping Istio\'s standard metrics, for runtime diagnosis (e.g. http://prometheus.istio-system:9090)').env('MESHMEDIC_PROMETHEUS'))
    .addOption(new Option('--traces <url>', 'kube: a Zipkin query API (GET /api/v2/traces) with the mesh\'s traces, for diagnosis (e.g. http://zipkin.istio-system:9411)').env('MESHMEDIC_TRACES'));
  // A command that has no kube form says so rather than acting on the local mesh.
  program.hook('preAction', (_root, action) => {
    const p = action.optsWithGlobals();
    if (p.platform === 'kube' && !KUBE_COMMANDS.has(action.name())) throw usageError(`${action.name()} has no --platform kube form yet (kube: ${[...KUBE_COMMANDS].join(', ')})`);
    if (p.platform !== 'kube' && action.getOptionValueSourceWithGlobals('prometheus') === 'cli') throw usageError('--prometheus goes with --platform kube (the local mesh has its own metrics store)');
    if (p.platform !== 'kube' && action.getOptionValueSourceWithGlobals('traces') === 'cli') throw usageError('--traces goes with --platform kube (the local mesh has its own trace store)');
  });
}

/** Commands with a kube form. */
const KUBE_COMMANDS = new Set(['analyze', 'recover', 'controller']);

export function platformOptions(cmd: Command): PlatformOptions {
  const o = cmd.optsWithGlobals();
  const p: PlatformOptions = { platform: o.platform ?? 'local', kubeconfig: o.kubeconfig, context: o.context, istioNamespace: o.istioNamespace ?? 'istio-system', prometheus: o.prometheus, traces: o.traces };
  if (p.prometheus !== undefined && !/^https?:\/\/[^/]+/.test(p.prometheus)) throw usageError(`--prometheus "${p.prometheus}": want a URL such as http://127.0.0.1:9090`);
  if (p.traces !== undefined && !/^https?:\/\/[^/]+/.test(p.traces)) throw usageError(`--traces "${p.traces}": want a URL such as http://127.0.0.1:9411`);
  return p;
}

export function kubeClient(p: PlatformOptions): KubeClient {
  return new KubeClient(loadKubeConfig({ kubeconfig: p.kubeconfig, context: p.context }));
}

/** Runs a kube command body; cluster and Prometheus errors end it with one line and exit 1. */
export async function withKubeErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof KubeError) throw new ExitError(EXIT_UNKNOWN_ERROR, [`Error: ${e.format()}`]);
    if (e instanceof MetricsQueryError) throw new ExitError(EXIT_UNKNOWN_ERROR, [`Error: Prometheus: ${e.message} [${e.code}]`]);
    throw e;
  }
}
