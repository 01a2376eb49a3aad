import type { Command } from 'commander';
import { toDot } from '../telemetry/graph/dot.js';
import { errorShare, ms, percent, rate } from '../telemetry/graph/format.js';
import { GraphRequestError, parseLevel, parseNamespace, parseWindow } from '../telemetry/graph/options.js';
import type { GraphNode, TrafficGraph } from '../telemetry/graph/types.js';
import { usageError } from './exit-codes.js';
import { callApi, requireControlPlane, stateDirOption } from './mesh-client.js';
import { printStructured, printTable } from './output.js';

// `meshmedic graph [-n NS] [--level service|workload|instance] [--window 1m] [-o log|json|yaml|dot]`:
// the service graph the dashboard draws. `log` lists the edges with their figures; `json`/`yaml`
// give the API's answer (nodes and edges); `dot` is Graphviz (`| dot -Tsvg > mesh.svg`).

const FORMATS = ['log', 'json', 'yaml', 'dot'] as const;
type GraphFormat = (typeof FORMATS)[number];

export function registerGraph(program: Command): void {
  program
    .command('graph')
    .description('The service graph: nodes (services, workloads, instances) and edges with rps, error ratio, latency, response flags, mTLS and health')
    .option('-n, --namespace <ns>', 'traffic of this namespace (sent or received); default: the whole mesh')
    .option('--level <level>', 'service, workload (services with the versions behind them) or instance', 'workload')
    .option('--window <duration>', 'time window of the figures (Prometheus duration)', '1m')
    .option('-o, --output <format>', 'log (the edges as a table), json, yaml or dot', 'log')
    .option('--state-dir <dir>', 'state directory')
    .action(async (opts) => {
      if (!(FORMATS as readonly string[]).includes(opts.output)) throw usageError(`unknown output format "${opts.output}" (want one of ${FORMATS.join(', ')})`);
      const format = opts.output as GraphFormat;
      try {
        parseLevel(opts.level);
        parseWindow(opts.window);
        parseNamespace(opts.namespace);
      } catch (e) {
        if (e instanceof GraphRequestError) throw usageError(e.message);
        throw e;
      }
      const q = new URLSearchParams({ level: opts.level, window: opts.window });
      if (opts.namespace) q.set('namespace', opts.namespace);
      const cp = requireControlPlane(stateDirOption(opts));
      const graph = await callApi<TrafficGraph>(cp, 'GET', `/api/v1/graph?${q}`);
      if (format === 'json' || format === 'yaml') return printStructured(graph, format);
      if (format === 'dot') return void process.stdout.write(toDot(graph));
      printEdges(graph);
    });
}

function printEdges(g: TrafficGraph): void {
  if (g.edges.length === 0) {
    process.stderr.write(`No traffic${g.namespace ? ` in namespace ${g.namespace}` : ''} in the last ${g.window} (the control plane scrapes every sidecar each second).\n`);
    return;
  }
  const nodes = new Map(g.nodes.map((n) => [n.id, n]));
  const name = (id: string) => displayName(nodes.get(id));
  printTable(
    ['SOURCE', 'DESTINATION', 'PROTOCOL', 'RPS', 'ERRORS', 'P50', 'P99', 'FLAGS', 'MTLS', 'HEALTH'],
    g.edges.map((e) => [
      name(e.source),
      name(e.target),
      e.protocol,
      e.protocol === 'tcp' ? '-' : rate(e.rps),
      percent(errorShare(e)),
      e.latencyMs ? ms(e.latencyMs.p50) : '-',
      e.latencyMs ? ms(e.latencyMs.p99) : '-',
      Object.entries(e.flags).map(([f, n]) => `${f}:${Math.round(n)}`).join(',') || '-',
      percent(e.mtls),
      e.health,
    ]),
  );
}

/** kubectl-like `kind/name.namespace`: svc/reviews.bookinfo, wl/reviews-v2.bookinfo, inst/reviews-v2-0.bookinfo. */
export function displayName(n: GraphNode | undefined): string {
  if (!n) return '?';
  if (n.kind === 'unknown') return 'unknown';
  const prefix = n.kind === 'service' ? 'svc' : n.kind === 'workload' ? 'wl' : 'inst';
  return n.external ? `${prefix}/${n.name}` : `${prefix}/${n.name}.${n.namespace}`;
}
