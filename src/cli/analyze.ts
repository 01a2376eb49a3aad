import type { Command } from 'commander';
import { Option } from 'commander';
import { readFileSync } from 'node:fs';
import { MeshmedicError } from '../api/errors.js';
import { resourceKey, type Resource } from '../api/resource.js';
import { loadPaths, type LoadResult } from '../config/loader.js';
import { loadStructuralSchemas, validateStructure } from '../config/schema.js';
import { defaultMeshConfig, defaultMeshNetworks, loadMeshConfigFile, loadMeshNetworksFile } from '../config/mesh.js';
import type { Analyzer } from '../config/analysis/analyzer.js';
import { levelAtLeast, parseLevel, type Level } from '../config/analysis/catalogue.js';
import { formatLog, toOutputObject, type Message } from '../config/analysis/message.js';
import { ANALYZERS, DEFAULT_ANALYZERS, findAnalyzer } from '../config/analysis/registry.js';
import { defaultIngressResources, runAnalyzers, type Suppression } from '../config/analysis/runner.js';
import { EXIT_ANALYZER_FOUND_ISSUES, EXIT_DATA_ERROR, ExitError, usageError } from './exit-codes.js';
import { outputFormatOption, printStructured } from './output.js';
import { analyzeLive } from './analyze-live.js';
import { stateDirOption } from './mesh-client.js';
import { analyzeKube } from './analyze-kube.js';
import { platformOptions } from './platform-options.js';

// `meshmedic analyze [FILES|DIRS|-]...`: Istio's config analysis with istioctl's flags,
// output and exit codes. Without files and with a mesh running, the live config is analyzed
// and diagnosis adds its runtime findings (analyze-live.ts).

export interface AnalyzeRequest {
  paths: string[];
  namespace: string;
  allNamespaces: boolean;
  recursive: boolean;
  analyzers?: string[];
  meshConfigFile?: string;
  meshNetworksFile?: string;
  suppress: string[];
  env?: Record<string, string>;
  /** Mesh config and networks already known (a cluster's istiod ConfigMap); the files above win. */
  meshConfig?: Record<string, any>;
  meshNetworks?: Record<string, any>;
}

export interface AnalyzeOutcome {
  messages: Message[];
  resources: number;
  notes: string[]; // things worth telling on stderr (skipped documents)
  skippedAnalyzers: string[];
}

/**
 * Kinds that describe what runs rather than what is configured. Without any of them in the input
 * an analyzer that needs them would only report everything as missing. (Nodes are not here: the
 * one analyzer that reads them only adds their topology labels.)
 */
const RUNTIME_KINDS = new Set<string>(['Pod', 'Secret']);

/** Load, validate and analyze. Throws ExitError for usage and input errors. */
export async function analyzeFiles(req: AnalyzeRequest, readStdin?: () => string): Promise<AnalyzeOutcome> {
  return analyzeLoaded(loadPaths(req.paths, { defaultNamespace: req.namespace, recursive: req.recursive }, readStdin), req);
}

/** Validate and analyze resources already loaded (from files, or the live config). */
export async function analyzeLoaded(loaded: LoadResult, req: Omit<AnalyzeRequest, 'paths' | 'recursive'>): Promise<AnalyzeOutcome> {
  const analyzers = pickAnalyzers(req.analyzers);
  const suppressions = req.suppress.map(parseSuppression);
  const errors: MeshmedicError[] = [...loaded.errors];
  if (errors.length === 0) {
    await loadStructuralSchemas(loaded.resources);
    for (const r of loaded.resources) errors.push(...validateStructure(r));
  }
  let meshConfig = req.meshConfig ?? defaultMeshConfig();
  let meshNetworks = req.meshNetworks ?? defaultMeshNetworks();
  try {
    if (req.meshConfigFile) meshConfig = loadMeshConfigFile(req.meshConfigFile);
    if (req.meshNetworksFile) meshNetworks = loadMeshNetworksFile(req.meshNetworksFile);
  } catch (e) {
    if (e instanceof MeshmedicError) errors.push(e);
    else throw e;
  }
  if (errors.length) throw new ExitError(EXIT_DATA_ERROR, errors.map((e) => `Error: ${e.format()}`));
  // As istioctl does without a cluster, analyzers that need runtime state the input does not
  // carry (no Pod at all, say) are skipped rather than run on nothing, which would only give
  // false alarms such as "subset selects no pods".
  const present = new Set(loaded.resources.map((r) => r.info.id));
  const missing = (a: Analyzer) => a.inputs.filter((k) => RUNTIME_KINDS.has(k) && !present.has(k));
  const runnable = analyzers.filter((a) => missing(a).length === 0);
  const skippedAnalyzers = analyzers.filter((a) => missing(a).length > 0);
  const resources = present.has('Pod') ? withDefaultIngress(loaded.resources, meshConfig) : loaded.resources;
  const { messages } = runAnalyzers(resources, runnable, {
    meshConfig,
    meshNetworks,
    namespace: req.allNamespaces ? '' : req.namespace,
    suppressions,
    env: req.env ?? {},
  });
  const notes: string[] = [];
  if (loaded.skipped.length) {
    const kinds = [...new Set(loaded.skipped.map((s) => s.kind))].sort().join(', ');
    notes.push(`Skipped ${loaded.skipped.length} document(s) of kinds meshmedic does not analyze: ${kinds}`);
  }
  if (skippedAnalyzers.length && req.analyzers?.length) {
    for (const a of skippedAnalyzers) notes.push(`Analyzer ${a.name} skipped: the input has no ${missing(a).join(', ')}`);
  }
  return { messages, resources: loaded.resources.length, notes, skippedAnalyzers: skippedAnalyzers.map((a) => a.name) };
}

/** The ingress gateway the mesh provides, unless the input defines its own. */
function withDefaultIngress(resources: Resource[], meshConfig: Record<string, any>): Resource[] {
  const keys = new Set(resources.map(resourceKey));
  return [...resources, ...defaultIngressResources(meshConfig).filter((r) => !keys.has(resourceKey(r)))];
}

function pickAnalyzers(names?: string[]): readonly Analyzer[] {
  if (!names || names.length === 0) return DEFAULT_ANALYZERS;
  return names.map((n) => {
    const a = findAnalyzer(n);
    if (!a) throw usageError(`unknown analyzer "${n}"; list them with --list-analyzers`);
    return a;
  });
}

/** `CODE=Kind name.namespace`, as istioctl's --suppress. */
export function parseSuppression(s: string): Suppression {
  const m = /^\s*([A-Z]+\d+|\*)\s*=\s*(\S+)\s+(\S+)\s*$/.exec(s);
  if (!m) throw usageError(`--suppress "${s}": expected "CODE=Kind name.namespace", e.g. "IST0102=Namespace frod"`);
  return { code: m[1], kind: m[2], name: m[3] };
}

function levelOption(flag: string, value: string): Level {
  const l = parseLevel(value);
  if (!l) throw usageError(`${flag} "${value}": want Info, Warning or Error`);
  return l;
}

export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('Analyze Istio configuration and report problems (istioctl analyze compatible)')
    .argument('[paths...]', 'files or directories of YAML/JSON resources; - reads stdin')
    .option('-n, --namespace <ns>', 'namespace for resources that have none, and the namespace analyzed', 'default')
    .option('-A, --all-namespaces', 'analyze all namespaces', false)
    .option('-f, --filename <path>', 'a file or directory to analyze, as the arguments (repeatable; with --platform kube laid over the cluster)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('-R, --recursive', 'process directory arguments recursively', false)
    .addOption(new Option('-o, --output <format>', 'output format: log, json or yaml').default('log'))
    .option('--failure-threshold <level>', 'lowest level that makes the command fail: Info, Warning, Error', 'Error')
    .option('--output-threshold <level>', 'lowest level printed: Info, Warning, Error', 'Info')
    .option('-L, --list-analyzers', 'list the analyzers and exit', false)
    .option('--analyzer <name>', 'run only this analyzer (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--meshconfig <file>', 'mesh config file (MeshConfig YAML, or the istio ConfigMap)')
    .option('--meshnetworks <file>', 'mesh networks file')
    .option('-S, --suppress <rule>', 'suppress messages: "CODE=Kind name.namespace" (repeatable, * wildcards)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('-r, --resource <service>', 'with a running mesh and no files: focus the runtime findings on this service (and what it depends on)')
    .option('--window <duration>', 'with a running mesh: the window of the runtime findings (default: since the open incident began, else 1m)')
    .option('--state-dir <dir>', 'state directory of the running mesh')
    .action(async (paths: string[], opts, cmd: Command) => {
      const format = outputFormatOption(opts.output);
      if (opts.listAnalyzers) return listAnalyzers(format);
      const failureThreshold = levelOption('--failure-threshold', opts.failureThreshold);
      const outputThreshold = levelOption('--output-threshold', opts.outputThreshold);
      paths = [...paths, ...opts.filename];
      if (platformOptions(cmd).platform === 'kube') return analyzeKube(paths, opts, cmd, format, failureThreshold, outputThreshold);
      if (paths.length === 0) {
        const cp = stateDirOption(opts).liveControlPlane();
        if (cp) return analyzeLive(cp, { ...opts, namespaceGiven: cmd.getOptionValueSource('namespace') === 'cli' }, format, failureThreshold, outputThreshold);
        throw usageError('no input: give files or directories of Istio resources, or - for stdin (or start a mesh to analyze its live config and runtime)');
      }
      if (opts.resource !== undefined || opts.window !== undefined) throw usageError('--resource and --window apply to a running mesh\'s runtime findings: give no files');
      const outcome = await analyzeFiles(
        {
          paths,
          namespace: opts.namespace,
          allNamespaces: opts.allNamespaces,
          recursive: opts.recursive,
          analyzers: opts.analyzer,
          meshConfigFile: opts.meshconfig,
          meshNetworksFile: opts.meshnetworks,
          suppress: opts.suppress,
        },
        () => readFileSync(0, 'utf8'),
      );
      for (const n of outcome.notes) process.stderr.write(`${n}\n`);
      const shown = outcome.messages.filter((m) => levelAtLeast(m.level, outputThreshold));
      const scope = opts.allNamespaces ? 'all namespaces' : `namespace: ${opts.namespace}`;
      if (format === 'log') {
        for (const m of shown) process.stdout.write(`${formatLog(m)}\n`);
        if (shown.length === 0) process.stderr.write(`\u2714 No validation issues found when analyzing ${scope}.\n`);
      } else if (shown.length > 0) {
        printStructured(shown.map(toOutputObject), format);
      }
      if (outcome.messages.some((m) => levelAtLeast(m.level, failureThreshold))) {
        throw new ExitError(EXIT_ANALYZER_FOUND_ISSUES, [
          `Error: Analyzers found issues when analyzing ${scope}.`,
          'See https://istio.io/latest/docs/reference/config/analysis for more information about causes and resolutions.',
        ]);
      }
    });
}

function listAnalyzers(format: 'log' | 'json' | 'yaml'): void {
  const rows = ANALYZERS.map((a) => ({ name: a.name, description: a.description, inputs: [...a.inputs], default: a.defaultEnabled !== false }));
  if (format !== 'log') return printStructured(rows, format);
  process.stdout.write('Available analyzers:\n');
  for (const r of rows) process.stdout.write(`* ${r.name}${r.default ? '' : ' (not run by default)'}:\n    ${r.description}\n`);
}
