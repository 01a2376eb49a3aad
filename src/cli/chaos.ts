import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { ChaosError } from '../platform/local/chaos/errors.js';
import { DEFAULT_DURATION_MS, faultType, MAX_DURATION_MS, parseDuration, parseParams, type RawParams } from '../platform/local/chaos/params.js';
import { databasePath, InjectionStore } from '../platform/local/chaos/store.js';
import { FAULT_TYPES, type InjectRequest, type Injection } from '../platform/local/chaos/types.js';
import { callDaemon, DaemonCallError } from '../platform/local/daemon-client.js';
import type { StateDir } from '../platform/local/state-dir.js';
import { EXIT_INCORRECT_USAGE, EXIT_UNKNOWN_ERROR, ExitError } from './exit-codes.js';
import { stateDirOption } from './mesh-client.js';
import { outputFormatOption, printStructured, printTable } from './output.js';

// `meshmedic chaos inject|list|clear` and `chaos stand-in`: faults put into the running local
// mesh by its daemon, each with its ground truth recorded (docs/chaos.md). `inject` prints the
// injection id alone on stdout (for scripts) and a line for people on stderr.

const PARAM_FLAGS: Array<[flag: string, description: string]> = [
  ['--delay <duration>', 'latency, network-delay: time added (200ms, 1s)'],
  ['--percent <pct>', 'latency, error-rate, network-delay: share of requests hit; bad-version: share of traffic to the new version'],
  ['--status <code>', 'error-rate: HTTP status answered (default 500)'],
  ['--cpu <pct>', 'cpu-burn: share of one core kept busy (default 90)'],
  ['--version-label <v>', 'bad-version: version label of the new instances (default chaos)'],
  ['--replicas <n>', 'bad-version: instances of the new version (default 1)'],
  ['--mode <mode>', 'bad-config: missing-subset|wrong-host; external-outage: refuse|hang|error; bad-authz: allow-nobody|deny-all; bad-mtls: strict|disable'],
  ['--host <host>', 'bad-config --mode wrong-host: the wrong host'],
  ['--subset <name>', 'bad-config --mode missing-subset: the missing subset'],
  ['--max-connections <n>', 'pool-exhaustion: tcp.maxConnections (default 1)'],
  ['--max-pending <n>', 'pool-exhaustion: http.http1MaxPendingRequests (default 1)'],
  ['--max-requests <n>', 'pool-exhaustion: http.http2MaxRequests (default 1)'],
];

const PARAM_NAMES = ['delay', 'percent', 'status', 'cpu', 'versionLabel', 'replicas', 'mode', 'host', 'subset', 'maxConnections', 'maxPending', 'maxRequests'] as const;

/** Errors of the daemon and of parsing, as exit codes: bad parameters are usage errors (64). */
function exitFor(e: unknown): never {
  if (e instanceof ChaosError) throw new ExitError(e.code === 'E_CHAOS_PARAM' ? EXIT_INCORRECT_USAGE : EXIT_UNKNOWN_ERROR, [`Error: ${e.format()}`]);
  if (e instanceof DaemonCallError) throw new ExitError(e.code === 'E_CHAOS_PARAM' ? EXIT_INCORRECT_USAGE : EXIT_UNKNOWN_ERROR, [`Error: ${e.message} [${e.code}]`]);
  throw e;
}

function daemonOf(state: StateDir): string {
  if (!state.liveMesh()) throw new ExitError(EXIT_UNKNOWN_ERROR, [`Error: no mesh is running (state directory ${state.root}); start one with: meshmedic up -f examples/bookinfo`]);
  return state.root;
}

const time = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');

function age(ms: number, now: number): string {
  const s = Math.round(Math.abs(now - ms) / 1000);
  const text = s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
  return now >= ms ? `${text} ago` : `in ${text}`;
}

function targetText(inj: Injection): string {
  const t = inj.target;
  if (t.kind === 'edge') return `edge ${t.source.name}->${t.destination.name}.${t.destination.namespace}`;
  if (t.kind === 'config') return `${t.resource.kind.toLowerCase()}/${t.resource.name}.${t.resource.namespace}`;
  return t.kind === 'external' ? `host ${t.name}` : `${t.kind}/${t.name}.${t.namespace}`;
}

function paramsText(inj: Injection): string {
  return Object.entries(inj.params).map(([k, v]) => `${k}=${String(v)}`).join(',') || '-';
}

export function printInjections(list: Injection[], now = Date.now()): void {
  printTable(
    ['ID', 'TYPE', 'TARGET', 'PARAMS', 'STATE', 'STARTED', 'ENDS', 'EXPECTED ROOT CAUSE'],
    list.map((i) => [i.id, i.type, targetText(i), paramsText(i), i.state, age(i.startedAt, now), i.endedAt !== undefined ? `ended ${age(i.endedAt, now)}` : age(i.endsAt, now), i.expectedCause.label]),
  );
}

export function registerChaos(program: Command): void {
  const chaos = program.command('chaos').description('Break the running local mesh on purpose, with the ground truth recorded: inject, list, clear');

  const inject = chaos
    .command('inject')
    .description(`Put a fault in force until --duration runs out or it is cleared; prints its id. Types: ${FAULT_TYPES.join(', ')}`)
    .argument('<type>', 'fault type')
    .requiredOption('-t, --target <target>', 'service, workload, instance, SOURCE->DEST edge, or external host; kind/name when ambiguous (service/reviews)')
    .option('-n, --namespace <ns>', 'namespace of the target (default: found from the name when it is unique)')
    .option('-d, --duration <duration>', 'how long the fault lasts; cleared by the mesh daemon after it', `${DEFAULT_DURATION_MS / 60_000}m`)
    .option('-o, --output <format>', 'id, json or yaml', 'id')
    .option('--state-dir <dir>', 'state directory');
  for (const [flag, description] of PARAM_FLAGS) inject.option(flag, description);
  inject.action(async (typeArg: string, opts) => {
    const format = opts.output === 'id' ? 'id' : (outputFormatOption(opts.output, ['json', 'yaml']) as 'json' | 'yaml');
    let request: InjectRequest;
    try {
      const type = faultType(typeArg);
      const raw: RawParams = {};
      for (const p of PARAM_NAMES) if (opts[p] !== undefined) raw[p] = String(opts[p]);
      request = { type, target: opts.target, ...(opts.namespace && { namespace: opts.namespace }), durationMs: parseDuration(opts.duration, '--duration', MAX_DURATION_MS), params: parseParams(type, raw) };
    } catch (e) {
      exitFor(e);
    }
    const root = daemonOf(stateDirOption(opts));
    const { injection } = await callDaemon<{ injection: Injection }>(root, 'POST', '/v1/chaos/injections', request!).catch(exitFor);
    if (format !== 'id') return printStructured(injection, format);
    process.stdout.write(`${injection.id}\n`);
    process.stderr.write(`\u2714 ${injection.type} on ${targetText(injection)} in force until ${time(injection.endsAt)} (clear it with: meshmedic chaos clear ${injection.id})\n`);
  });

  chaos
    .command('list')
    .description('Injections, newest first, with their ground truth (works with the mesh stopped)')
    .option('--active', 'only the ones in force')
    .option('-o, --output <format>', 'log, json or yaml', 'log')
    .option('--state-dir <dir>', 'state directory')
    .action((opts) => {
      const format = outputFormatOption(opts.output);
      const file = databasePath(stateDirOption(opts).root);
      let list: Injection[] = [];
      if (existsSync(file)) {
        const store = new InjectionStore(file, { readonly: true });
        list = store.list({ active: !!opts.active });
        store.close();
      }
      if (format !== 'log') return printStructured(list, format);
      if (list.length === 0) return void process.stdout.write('No injections.\n');
      printInjections(list);
    });

  chaos
    .command('clear')
    .description('Clear injections: revert exactly what each did')
    .argument('[ids...]', 'injection ids (see chaos list)')
    .option('--all', 'every active injection')
    .option('-o, --output <format>', 'log, json or yaml', 'log')
    .option('--state-dir <dir>', 'state directory')
    .action(async (ids: string[], opts) => {
      const format = outputFormatOption(opts.output);
      if (!opts.all && ids.length === 0) throw new ExitError(EXIT_INCORRECT_USAGE, ['Error: name the injections to clear, or --all']);
      if (opts.all && ids.length) throw new ExitError(EXIT_INCORRECT_USAGE, ['Error: give ids or --all, not both']);
      const root = daemonOf(stateDirOption(opts));
      const cleared: Injection[] = opts.all
        ? (await callDaemon<{ injections: Injection[] }>(root, 'DELETE', '/v1/chaos/injections').catch(exitFor)).injections
        : await Promise.all(ids.map(async (id) => (await callDaemon<{ injection: Injection }>(root, 'DELETE', `/v1/chaos/injections/${encodeURIComponent(id)}`).catch(exitFor)).injection));
      if (format !== 'log') return printStructured(cleared, format);
      if (cleared.length === 0) process.stdout.write('No active injections.\n');
      for (const i of cleared) process.stdout.write(`${i.id} ${i.state}${i.endReason ? ` (${i.endReason})` : ''}\n`);
    });

  registerStandIn(chaos);
}

function registerStandIn(chaos: Command): void {
  const standIn = chaos.command('stand-in').description('Stand-ins for external hosts (a local server behind a ServiceEntry), which external-outage can break');
  standIn
    .command('add')
    .argument('<host>', 'external host name, e.g. api.payments.example')
    .option('--port <port>', 'port callers use', '80')
    .option('-n, --namespace <ns>', 'namespace of the ServiceEntry', 'default')
    .option('--state-dir <dir>', 'state directory')
    .action(async (host: string, opts) => {
      const root = daemonOf(stateDirOption(opts));
      const { standIn: s } = await callDaemon<{ standIn: { host: string; port: number; endpoint: string } }>(root, 'POST', '/v1/stand-ins', { host, port: Number(opts.port), namespace: opts.namespace }).catch(exitFor);
      process.stdout.write(`\u2714 ${s.host}:${s.port} is served by a stand-in at ${s.endpoint} (ServiceEntry applied)\n`);
    });
  standIn
    .command('list')
    .option('-o, --output <format>', 'log, json or yaml', 'log')
    .option('--state-dir <dir>', 'state directory')
    .action(async (opts) => {
      const format = outputFormatOption(opts.output);
      const { standIns } = await callDaemon<{ standIns: Array<{ host: string; port: number; endpoint: string; state: string; requests: number }> }>(daemonOf(stateDirOption(opts)), 'GET', '/v1/stand-ins').catch(exitFor);
      if (format !== 'log') return printStructured(standIns, format);
      printTable(['HOST', 'PORT', 'ENDPOINT', 'STATE', 'REQUESTS'], standIns.map((s) => [s.host, String(s.port), s.endpoint, s.state, String(s.requests)]));
    });
  standIn
    .command('remove')
    .argument('<host>')
    .option('--state-dir <dir>', 'state directory')
    .action(async (host: string, opts) => {
      await callDaemon(daemonOf(stateDirOption(opts)), 'DELETE', `/v1/stand-ins/${encodeURIComponent(host)}`).catch(exitFor);
      process.stdout.write(`\u2714 stand-in for ${host} removed\n`);
    });
}
