import type { Command } from 'commander';
import { otlpTracesUrl } from '../telemetry/tracing/otlp-exporter.js';
import type { SpanNode, TraceSummary, TraceView } from '../telemetry/tracing/trace-source.js';
import { flattenTree } from '../telemetry/tracing/trace-tree.js';
import { usageError } from './exit-codes.js';
import { callApi, requireControlPlane, stateDirOption } from './mesh-client.js';
import { outputFormatOption, printStructured, printTable } from './output.js';

// `meshmedic trace ID`: one trace as a tree of spans (a span under the span that caused it),
// with the service and instance that recorded each, its kind, status, response flags,
// duration and start relative to the trace. `meshmedic trace --service NAME [-n NS]`: recent
// traces that touch a service, newest first. `-o json|yaml` prints what the API returns.

export function registerTrace(program: Command): void {
  program
    .command('trace')
    .description('Show a trace as a tree of spans, or list the recent traces of a service')
    .argument('[traceId]', 'trace id (32 or 16 hex digits)')
    .option('--service <name>', 'list recent traces that touch this service (canonical name, e.g. reviews)')
    .option('-n, --namespace <ns>', 'with --service: the service\'s namespace; alone: traces touching the namespace')
    .option('--limit <n>', 'how many traces to list', '20')
    .option('--errors', 'list only traces with an error span (5xx or no response)')
    .option('-o, --output <format>', 'log (a tree or a table), json or yaml', 'log')
    .option('--state-dir <dir>', 'state directory')
    .action(async (traceId: string | undefined, opts) => {
      const format = outputFormatOption(opts.output);
      if (traceId !== undefined && (opts.service || opts.errors)) throw usageError('give a trace id, or --service to list traces, not both');
      if (traceId === undefined && !opts.service && !opts.namespace) throw usageError('give a trace id, or --service NAME [-n NAMESPACE] to list recent traces');
      if (traceId !== undefined && !/^[0-9a-fA-F]{16}$|^[0-9a-fA-F]{32}$/.test(traceId)) throw usageError(`"${traceId}" is not a trace id (16 or 32 hex digits)`);
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw usageError('--limit must be an integer from 1 to 1000');
      const cp = requireControlPlane(stateDirOption(opts));
      if (traceId !== undefined) {
        const view = await callApi<TraceView>(cp, 'GET', `/api/v1/traces/${traceId}`);
        if (format !== 'log') return printStructured(view, format);
        return printTraceTree(view);
      }
      const q = new URLSearchParams({ limit: String(limit) });
      if (opts.service) q.set('service', opts.service);
      if (opts.namespace) q.set('namespace', opts.namespace);
      if (opts.errors) q.set('errors', 'true');
      const { traces } = await callApi<{ traces: TraceSummary[] }>(cp, 'GET', `/api/v1/traces?${q}`);
      if (format !== 'log') return printStructured(traces, format);
      if (traces.length === 0) {
        const who = opts.service ? `service ${opts.service}${opts.namespace ? ` in namespace ${opts.namespace}` : ''}` : `namespace ${opts.namespace}`;
        process.stdout.write(`No recent traces touch ${who} (Istio samples 1% of requests by default; send x-envoy-force-trace: true, or set a Telemetry resource's randomSamplingPercentage).\n`);
        return;
      }
      printTraceList(traces, Date.now());
    });
}

export function printTraceTree(view: TraceView): void {
  const errors = countErrors(view.roots);
  process.stdout.write(
    `Trace ${view.traceId}: ${view.spanCount} span(s), ${view.services.length} service(s), ${duration(view.durationMs)}, ${errors === 0 ? 'no errors' : `${errors} error span(s)`}\n\n`,
  );
  const rows = treeRows(view.roots).map(({ prefix, node }) => [
    `${prefix}${node.name}`,
    `${node.service}.${node.namespace}`,
    node.instance,
    node.kind.toLowerCase(),
    node.status === 0 ? '-' : String(node.status),
    node.responseFlags,
    duration(node.durationMs),
    `+${duration(node.startMs - view.startMs)}`,
  ]);
  printTable(['SPAN', 'SERVICE', 'INSTANCE', 'KIND', 'STATUS', 'FLAGS', 'DURATION', 'START'], rows);
}

export function printTraceList(traces: TraceSummary[], nowMs: number): void {
  printTable(
    ['TRACE ID', 'ROOT SERVICE', 'ROOT SPAN', 'SPANS', 'SERVICES', 'STATUS', 'FLAGS', 'DURATION', 'ERROR', 'AGE'],
    traces.map((t) => [
      t.traceId,
      `${t.root.service}.${t.root.namespace}`,
      t.root.name,
      String(t.spanCount),
      String(t.services.length),
      t.root.status === 0 ? '-' : String(t.root.status),
      t.root.responseFlags,
      duration(t.durationMs),
      t.error ? 'yes' : '-',
      age(nowMs - t.startMs),
    ]),
  );
}

/** Tree-drawing prefixes (`├─ `, `└─ `, `│  `), as `tree` and kubectl tree plugins draw them. */
function treeRows(roots: SpanNode[]): Array<{ prefix: string; node: SpanNode }> {
  const out: Array<{ prefix: string; node: SpanNode }> = [];
  const walk = (n: SpanNode, lead: string, last: boolean, top: boolean) => {
    out.push({ prefix: top ? '' : `${lead}${last ? '└─ ' : '├─ '}`, node: n });
    const childLead = top ? '' : `${lead}${last ? '   ' : '│  '}`;
    n.children.forEach((c, i) => walk(c, childLead, i === n.children.length - 1, false));
  };
  for (const r of roots) walk(r, '', true, true);
  return out;
}

function countErrors(roots: SpanNode[]): number {
  return flattenTree(roots).filter((x) => x.node.error).length;
}

export function duration(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)}s`;
  return ms < 10 ? `${Number(ms.toFixed(1))}ms` : `${Math.round(ms)}ms`;
}

function age(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  return `${Math.floor(s / 3600)}h`;
}

/** `up --otlp-endpoint`: an http(s) URL, or a usage error. */
export function otlpEndpointOption(value: string): string {
  try {
    otlpTracesUrl(value);
  } catch (e) {
    throw usageError(`--otlp-endpoint: ${(e as Error).message.replace(/^Invalid URL$/, `not a URL: ${value}`)}`);
  }
  return value;
}
