import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { expandPaths } from '../config/loader.js';
import type { ControlPlaneRecord } from '../platform/local/state-dir.js';
import { authHeader, callApi, requireControlPlane, stateDirOption } from './mesh-client.js';
import { EXIT_DATA_ERROR, ExitError, usageError } from './exit-codes.js';
import { outputFormatOption, printStructured, printTable } from './output.js';

// `apply -f`, `delete -f` and `get`: kubectl's verbs against the local control plane. Input is
// validated by the control plane as istiod's webhook would; anything invalid is rejected whole.

interface ApplyAnswer {
  version: number;
  applied?: Array<{ kind: string; namespace: string; name: string; action: string }>;
  deleted?: Array<{ kind: string; namespace: string; name: string; action: string }>;
  warnings?: Array<{ code: string; message: string; reference: string }>;
}

interface Rejection {
  errors: Array<{ code: string; message: string; reference: string }>;
}

function readDocuments(paths: string[]): Array<{ file: string; text: string }> {
  const { files, errors } = expandPaths(paths, true);
  if (errors.length) throw new ExitError(EXIT_DATA_ERROR, errors.map((e) => `Error: ${e.format()}`));
  return files.map((file) => ({ file, text: file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8') }));
}

async function send(cp: ControlPlaneRecord, verb: 'apply' | 'delete', paths: string[], namespace: string): Promise<ApplyAnswer> {
  const res = await fetch(`${cp.url}/api/v1/${verb}?namespace=${encodeURIComponent(namespace)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...authHeader(cp) },
    body: JSON.stringify({ documents: readDocuments(paths) }),
  });
  const body = (await res.json()) as ApplyAnswer & Rejection;
  if (res.status === 400 && Array.isArray(body.errors)) {
    throw new ExitError(EXIT_DATA_ERROR, [...body.errors.map((e) => `Error: ${e.reference ? `${e.reference}: ` : ''}${e.message} [${e.code}]`), `Error: nothing was ${verb === 'apply' ? 'applied' : 'deleted'}`]);
  }
  if (!res.ok) throw new ExitError(1, [`Error: ${(body as unknown as { error?: { message: string } }).error?.message ?? `HTTP ${res.status}`}`]);
  return body;
}

/** Used by `apply` and by `up --config`. Prints kubectl-style lines. */
export async function applyFiles(cp: ControlPlaneRecord, paths: string[], namespace: string, quiet = false): Promise<ApplyAnswer> {
  const answer = await send(cp, 'apply', paths, namespace);
  if (!quiet) {
    for (const a of answer.applied ?? []) process.stdout.write(`${a.kind.toLowerCase()}/${a.name} ${a.action}${a.namespace ? ` (namespace ${a.namespace})` : ''}\n`);
    for (const w of answer.warnings ?? []) process.stderr.write(`Warning: ${w.reference ? `${w.reference}: ` : ''}${w.message} [${w.code}]\n`);
  }
  return answer;
}

export function registerApply(program: Command): void {
  const files = (v: string, acc: string[]) => [...acc, v];
  program
    .command('apply')
    .description('Apply Istio (and Kubernetes Service/WorkloadEntry...) resources to the running mesh; invalid input is rejected whole')
    .option('-f, --filename <path>', 'file, directory or - (repeatable)', files, [] as string[])
    .option('-n, --namespace <ns>', 'namespace for resources that have none', 'default')
    .option('--state-dir <dir>', 'state directory')
    .action(async (opts) => {
      if (opts.filename.length === 0) throw usageError('give -f FILE');
      await applyFiles(requireControlPlane(stateDirOption(opts)), opts.filename, opts.namespace);
    });

  program
    .command('delete')
    .description('Delete the resources named in the files from the running mesh')
    .option('-f, --filename <path>', 'file, directory or - (repeatable)', files, [] as string[])
    .option('-n, --namespace <ns>', 'namespace for resources that have none', 'default')
    .option('--state-dir <dir>', 'state directory')
    .action(async (opts) => {
      if (opts.filename.length === 0) throw usageError('give -f FILE');
      const answer = await send(requireControlPlane(stateDirOption(opts)), 'delete', opts.filename, opts.namespace);
      for (const d of answer.deleted ?? []) process.stdout.write(`${d.kind.toLowerCase()}/${d.name} ${d.action}\n`);
    });

  program
    .command('get')
    .description('List resources of a kind in the running mesh (kubectl get)')
    .argument('<kind>', 'kind, e.g. virtualservice, destinationrule, service (plural and short names: vs, dr, svc, se)')
    .argument('[name]')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('-A, --all-namespaces', 'all namespaces', false)
    .option('-o, --output <format>', 'log (a table), json or yaml', 'log')
    .option('--state-dir <dir>', 'state directory')
    .action(async (kind: string, name: string | undefined, opts) => {
      const format = outputFormatOption(opts.output);
      const q = new URLSearchParams({ kind });
      if (!opts.allNamespaces) q.set('namespace', opts.namespace);
      if (name) q.set('name', name);
      const { items } = await callApi<{ items: Array<{ kind: string; namespace: string; name: string; raw: unknown; origin: { file: string; line: number } }> }>(requireControlPlane(stateDirOption(opts)), 'GET', `/api/v1/resources?${q}`);
      if (format !== 'log') return printStructured(name ? items[0]?.raw : { apiVersion: 'v1', kind: 'List', items: items.map((i) => i.raw) }, format);
      if (items.length === 0) return void process.stderr.write(`No resources found${opts.allNamespaces ? '' : ` in ${opts.namespace} namespace`}.\n`);
      const rows = items.map((i) => [i.namespace, i.name, i.origin.file ? `${i.origin.file}:${i.origin.line}` : '']);
      printTable(['NAMESPACE', 'NAME', 'SOURCE'], rows);
    });
}
