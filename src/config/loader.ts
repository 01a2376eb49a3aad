import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import { MeshmedicError } from '../api/errors.js';
import { isIstioGroup, lookupKind, splitApiVersion } from '../api/kinds.js';
import type { FieldPath, Resource } from '../api/resource.js';

// Reads Kubernetes-style YAML or JSON (multi-document, `kind: List`) into resources that keep
// their file and line. Input is checked whole: the caller gets every error at once and
// nothing when there is any error.

/** Namespaces Istio never analyzes or injects (inject.IgnoredNamespaces). */
export const IGNORED_NAMESPACES = new Set(['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage']);

/** Istio groups whose every kind meshmedic knows, so an unknown kind there is a mistake. */
const STRICT_GROUPS = new Set(['networking.istio.io', 'security.istio.io', 'telemetry.istio.io', 'extensions.istio.io']);

export interface LoadOptions {
  /** Namespace given to namespaced resources that have none ('' leaves it empty, as Istio's test loader does). */
  defaultNamespace: string;
  /** Load only these kinds (Istio's test loader reads only an analyzer's inputs); others are skipped. */
  onlyKinds?: ReadonlySet<string>;
  /** Unknown kinds in Istio's groups are errors unless this is set (Istio's test loader skips them). */
  lenientKinds?: boolean;
}

export interface SkippedDocument {
  file: string;
  line: number;
  apiVersion: string;
  kind: string;
}

export interface LoadResult {
  resources: Resource[];
  skipped: SkippedDocument[];
  errors: MeshmedicError[];
}

export function parseText(text: string, file: string, opts: LoadOptions): LoadResult {
  const result: LoadResult = { resources: [], skipped: [], errors: [] };
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  // A text that is not YAML at all comes back as an EmptyStream with errors.
  const list = Array.isArray(docs) ? docs : [];
  if (!Array.isArray(docs)) {
    for (const e of (docs as { errors?: Array<{ message: string; pos: [number, number] }> }).errors ?? [])
      result.errors.push(yamlError(e, file, lineCounter));
  }
  for (const doc of list) {
    if (doc.errors.length > 0) {
      result.errors.push(yamlError(doc.errors[0], file, lineCounter));
      continue;
    }
    const value = doc.toJS({ maxAliasCount: 1000 }) as unknown;
    if (value == null) continue; // empty document, e.g. a trailing `---`
    const startLine = doc.contents?.range ? lineCounter.linePos(doc.contents.range[0]).line : 1;
    if (typeof value !== 'object' || Array.isArray(value)) {
      result.errors.push(new MeshmedicError('E_NOT_OBJECT', 'document is not a mapping (expected apiVersion, kind, metadata)', { file, line: startLine }));
      continue;
    }
    const obj = value as Record<string, any>;
    if (obj.kind === 'List' && Array.isArray(obj.items)) {
      obj.items.forEach((item: unknown, i: number) => addObject(result, item, file, doc, lineCounter, ['items', i], opts));
    } else addObject(result, obj, file, doc, lineCounter, [], opts);
  }
  return result;
}

function yamlError(e: { message: string; pos: [number, number] }, file: string, lc: LineCounter): MeshmedicError {
  const { line, col } = lc.linePos(e.pos[0]);
  return new MeshmedicError('E_YAML_PARSE', e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, ''), { file, line, column: col });
}

function addObject(result: LoadResult, item: unknown, file: string, doc: Document, lc: LineCounter, basePath: FieldPath, opts: LoadOptions): void {
  const line = lineAt(doc, lc, basePath);
  const pos = { file, line };
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    result.errors.push(new MeshmedicError('E_NOT_OBJECT', 'document is not a mapping (expected apiVersion, kind, metadata)', pos));
    return;
  }
  const obj = item as Record<string, any>;
  for (const field of ['apiVersion', 'kind'] as const) {
    if (typeof obj[field] !== 'string' || obj[field] === '') {
      result.errors.push(new MeshmedicError('E_MISSING_FIELD', `${field} is required`, pos, field));
      return;
    }
  }
  const info = lookupKind(obj.apiVersion, obj.kind);
  if (!info || info.group === 'meshmedic.internal') {
    const group = splitApiVersion(obj.apiVersion).group;
    if (STRICT_GROUPS.has(group) && !opts.lenientKinds) {
      result.errors.push(new MeshmedicError('E_UNKNOWN_KIND', `unknown kind ${obj.kind} in ${obj.apiVersion}`, pos, 'kind'));
    } else {
      result.skipped.push({ file, line, apiVersion: obj.apiVersion, kind: obj.kind });
    }
    return;
  }
  if (opts.onlyKinds && !opts.onlyKinds.has(info.id)) return;
  const metadata = obj.metadata;
  if (typeof metadata !== 'object' || metadata === null || typeof metadata.name !== 'string' || metadata.name === '') {
    result.errors.push(new MeshmedicError('E_MISSING_FIELD', 'metadata.name is required', pos, 'metadata.name'));
    return;
  }
  const meta = { ...metadata };
  if (info.clusterScoped) delete meta.namespace;
  else if (!meta.namespace && opts.defaultNamespace) meta.namespace = opts.defaultNamespace;
  if (IGNORED_NAMESPACES.has(meta.namespace ?? '') || (info.id === 'Namespace' && IGNORED_NAMESPACES.has(meta.name))) return;
  result.resources.push({
    info,
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: meta,
    spec: obj.spec ?? {},
    status: obj.status,
    raw: obj,
    origin: { file, line, doc, lineCounter: lc, basePath },
  });
}

function lineAt(doc: Document, lc: LineCounter, path: FieldPath): number {
  const node = path.length ? (doc.getIn(path as unknown[], true) as { range?: [number, number, number] } | undefined) : (doc.contents as { range?: [number, number, number] } | null);
  return node?.range ? lc.linePos(node.range[0]).line : 1;
}

const YAML_EXT = /\.(ya?ml|json)$/i;

/** Expand files and directories (recursively, *.yaml|*.yml|*.json, sorted) into a list of files. */
export function expandPaths(paths: readonly string[]): { files: string[]; errors: MeshmedicError[] } {
  const files: string[] = [];
  const errors: MeshmedicError[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (YAML_EXT.test(name)) files.push(p);
    }
  };
  for (const p of paths) {
    if (p === '-') {
      files.push('-');
      continue;
    }
    let st;
    try {
      st = statSync(p);
    } catch {
      errors.push(new MeshmedicError('E_FILE_NOT_FOUND', 'no such file or directory', { file: p, line: 0 }));
      continue;
    }
    if (st.isDirectory()) walk(p);
    else files.push(p);
  }
  return { files, errors };
}

/** Load files, directories and `-` (stdin). Later resources with the same key replace earlier ones. */
export function loadPaths(paths: readonly string[], opts: LoadOptions, readStdin: () => string = () => readFileSync(0, 'utf8')): LoadResult {
  const { files, errors } = expandPaths(paths);
  const result: LoadResult = { resources: [], skipped: [], errors };
  for (const file of files) {
    let text: string;
    try {
      text = file === '-' ? readStdin() : readFileSync(file, 'utf8');
    } catch (e) {
      result.errors.push(new MeshmedicError('E_FILE_READ', (e as Error).message, { file, line: 0 }));
      continue;
    }
    const r = parseText(text, file, opts);
    result.resources.push(...r.resources);
    result.skipped.push(...r.skipped);
    result.errors.push(...r.errors);
  }
  return result;
}
