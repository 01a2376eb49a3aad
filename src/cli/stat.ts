import type { Command } from 'commander';
import { bytes, ms, rate } from '../telemetry/graph/format.js';
import { GraphRequestError, parseNamespace, parseStatKind, parseWindow, type StatKind } from '../telemetry/graph/options.js';
import type { StatRow, StatTable } from '../telemetry/graph/stat.js';
import { parseDurationMs } from '../telemetry/promql/duration.js';
import { EXIT_UNKNOWN_ERROR, ExitError, usageError } from './exit-codes.js';
import { callApi, requireControlPlane, stateDirOption } from './mesh-client.js';
import { printStructured, printTable } from './output.js';

// `meshmedic stat [service|workload] [NAME] [-n NS] [--window 1m] [-w] [-o wide|json|yaml]`, as
// `linkerd viz stat`: per service (or workload) the success rate, requests per second and
// latency quantiles over the window, and Kiali's health. Every namespace unless -n. `-w`
// refreshes every --interval until Ctrl-C (or --count refreshes).

const FORMATS = ['log', 'wide', 'json', 'yaml'] as const;
type StatFormat = (typeof FORMATS)[number];

export function registerStat(program: Command): void {
  program
    .command('stat')
    .description('Success rate, requests per second and latency of services or workloads (as linkerd viz stat), with health')
    .argument('[kind]', 'service (default; also svc) or workload (also wl, deploy)')
    .argument('[name]', 'only this service or workload')
    .option('-n, --namespace <ns>', 'only this namespace (default: every namespace)')
    .option('-A, --all-namespaces', 'every namespace (the default)')
    .option('--window <duration>', 'time window of the figures (Prometheus duration)', '1m')
    .option('-w, --watch', 'refresh until Ctrl-C')
    .option('--interval <duration>', 'with -w: time between refreshes', '2s')
    .option('--count <n>', 'with -w: stop after this many refreshes')
    .option('-o, --output <format>', 'log (a table), wide (more columns), json or yaml', 'log')
    .option('--state-dir <dir>', 'state directory')
    .action(async (kindArg: string | undefined, name: string | undefined, opts) => {
      const format = statFormat(opts.output);
      const { kind, query } = statQuery(kindArg, name, opts);
      const watch = watchOptions(opts);
      const cp = requireControlPlane(stateDirOption(opts));
      const fetchTable = () => callApi<StatTable>(cp, 'GET', `/api/v1/stat?${query}`);
      const show = (t: StatTable) => render(t, kind, name, format, opts.namespace !== undefined && !opts.allNamespaces);
      if (!watch) return show(await fetchTable());
      await watchLoop(fetchTable, show, watch, format);
    });
}

function statFormat(value: string): StatFormat {
  if (!(FORMATS as readonly string[]).includes(value)) throw usageError(`unknown output format "${value}" (want one of ${FORMATS.join(', ')})`);
  return value as StatFormat;
}

function statQuery(kindArg: string | undefined, name: string | undefined, opts: { namespace?: string; allNamespaces?: boolean; window: string }): { kind: StatKind; query: URLSearchParams } {
  let kind: StatKind;
  try {
    kind = parseStatKind(kindArg);
    parseWindow(opts.window);
    parseNamespace(opts.namespace);
  } catch (e) {
    if (!(e instanceof GraphRequestError)) throw e;
    const hint = e.code === 'E_STAT_KIND' && name === undefined ? `; to name a service: meshmedic stat service ${kindArg}` : '';
    throw usageError(`${e.message}${hint}`);
  }
  if (opts.namespace !== undefined && opts.allNamespaces) throw usageError('give -n NAMESPACE or -A, not both');
  const query = new URLSearchParams({ kind, window: opts.window });
  if (opts.namespace !== undefined && !opts.allNamespaces) query.set('namespace', opts.namespace);
  if (name !== undefined) query.set('name', name);
  return { kind, query };
}

interface Watch {
  intervalMs: number;
  count: number | undefined;
}

function watchOptions(opts: { watch?: boolean; interval: string; count?: string }): Watch | undefined {
  if (!opts.watch) {
    if (opts.count !== undefined) throw usageError('--count needs -w');
    return undefined;
  }
  const intervalMs = parseDurationMs(opts.interval);
  if (intervalMs === undefined || intervalMs < 100) throw usageError(`--interval "${opts.interval}" must be a duration of at least 100ms (e.g. 2s)`);
  const count = opts.count === undefined ? undefined : Number(opts.count);
  if (count !== undefined && !(Number.isInteger(count) && count >= 1)) throw usageError('--count must be a whole number of at least 1');
  return { intervalMs, count };
}

/** Refreshes until Ctrl-C or `count` tables; Ctrl-C ends quietly with exit 0 (as `kubectl get -w`). */
async function watchLoop(fetchTable: () => Promise<StatTable>, show: (t: StatTable) => void, w: Watch, format: StatFormat): Promise<void> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const clear = process.stdout.isTTY && (format === 'log' || format === 'wide');
  try {
    for (let i = 0; w.count === undefined || i < w.count; i++) {
      if (i > 0 && !(await pause(w.intervalMs, stop.signal))) break;
      const table = await fetchTable();
      if (stop.signal.aborted) break;
      if (clear) process.stdout.write('\x1b[H\x1b[2J');
      else if (i > 0) process.stdout.write(format === 'yaml' ? '---\n' : '\n');
      if (clear) process.stdout.write(`Every ${w.intervalMs / 1000}s, last ${table.window}: ${new Date(table.timeMs).toISOString()}\n\n`);
      show(table);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Waits `ms`; false when interrupted first. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function render(t: StatTable, kind: StatKind, name: string | undefined, format: StatFormat, oneNamespace: boolean): void {
  if (format === 'json' || format === 'yaml') return printStructured(t.rows, format);
  const where = t.namespace ? ` in namespace ${t.namespace}` : '';
  if (t.rows.length === 0 && name !== undefined) throw new ExitError(EXIT_UNKNOWN_ERROR, [`Error: ${kind} "${name}" has no Istio metrics${where} [E_NOT_FOUND]`]);
  if (t.rows.length === 0) {
    process.stderr.write(`No ${kind}s with Istio metrics${where} (the control plane scrapes every sidecar each second; is traffic flowing?)\n`);
    return;
  }
  const wide = format === 'wide';
  const header = [
    ...(oneNamespace ? [] : ['NAMESPACE']),
    'NAME',
    ...(kind === 'workload' ? ['VERSION'] : []),
    'SUCCESS',
    'RPS',
    'LATENCY_P50',
    'LATENCY_P95',
    'LATENCY_P99',
    ...(wide ? ['REQUESTS', '4XX', '5XX', 'FLAGS', 'MTLS', 'TCP', ...(kind === 'workload' ? ['OUT_RPS'] : [])] : []),
    'HEALTH',
  ];
  printTable(header, t.rows.map((r) => row(r, kind, wide, oneNamespace)));
}

function row(r: StatRow, kind: StatKind, wide: boolean, oneNamespace: boolean): string[] {
  const lat = (v: number | undefined) => (v === undefined ? '-' : ms(v));
  const busy = r.requests > 0;
  return [
    ...(oneNamespace ? [] : [r.namespace]),
    r.name,
    ...(kind === 'workload' ? [r.version ?? '-'] : []),
    r.successRatio === null ? '-' : `${(r.successRatio * 100).toFixed(2)}%`,
    busy ? `${rate(r.rps)}rps` : '-',
    lat(r.latencyMs?.p50),
    lat(r.latencyMs?.p95),
    lat(r.latencyMs?.p99),
    ...(wide
      ? [
          busy ? String(Math.round(r.requests)) : '-',
          pct(r.clientErrorRatio),
          pct(r.errorRatio),
          Object.entries(r.flags).map(([f, n]) => `${f}:${Math.round(n)}`).join(',') || '-',
          r.mtls === null ? '-' : pct(r.mtls),
          r.tcp ? `${bytes(r.tcp.sentBytesPerSec + r.tcp.receivedBytesPerSec)}/s` : '-',
          ...(kind === 'workload' ? [r.outboundRps ? `${rate(r.outboundRps)}rps` : '-'] : []),
        ]
      : []),
    r.health,
  ];
}

function pct(ratio: number | null): string {
  return ratio === null ? '-' : `${(ratio * 100).toFixed(2)}%`;
}
