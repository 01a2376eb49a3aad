import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import jsyaml from 'js-yaml';
import { MeshmedicError } from '../api/errors.js';
import { isIstioGroup, lookupKind, splitApiVersion } from '../api/kinds.js';
import { lineOf, type Resource, type ResourceOrigin } from '../api/resource.js';

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
  /** Descend into subdirectories of directory arguments (istioctl's -R). */
  recursive?: boolean;
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
  for (const chunk of splitDocuments(text)) {
    let value: unknown;
    try {
      value = jsyaml.load(chunk.text, { schema: SCHEMA, filename: file });
    } catch (e) {
      const err = e as { reason?: string; message: string; mark?: { line: number; column: number } };
      const line = err.mark ? chunk.firstLine + err.mark.line : chunk.firstLine;
      result.errors.push(new MeshmedicError('E_YAML_PARSE', err.reason ?? err.message.split('\n')[0], { file, line, column: err.mark ? err.mark.column + 1 : undefined }));
      continue;
    }
    if (value == null) continue; // empty document, e.g. a trailing `---`
    const source = { text: chunk.text, firstLine: chunk.firstLine };
    const line = contentLine(chunk.text, chunk.firstLine);
    if (typeof value !== 'object' || Array.isArray(value)) {
      result.errors.push(new MeshmedicError('E_NOT_OBJECT', 'document is not a mapping (expected apiVersion, kind, metadata)', { file, line }));
      continue;
    }
    const obj = value as Record<string, any>;
    if (obj.kind === 'List' && Array.isArray(obj.items)) {
      obj.items.forEach((item: unknown, i: number) => {
        const origin: ResourceOrigin = { file, line, source, basePath: ['items', i] };
        origin.line = lineOf({ origin } as Resource, []);
        addObject(result, item, origin, opts);
      });
    } else addObject(result, obj, { file, line, source }, opts);
  }
  return result;
}

// js-yaml's core schema (YAML 1.2: no timestamps turning into Dates) plus `<<` merge keys.
const SCHEMA = jsyaml.CORE_SCHEMA.extend([(jsyaml as unknown as { types: { merge: jsyaml.Type } }).types.merge]);

interface Chunk {
  text: string;
  firstLine: number; // 1-based line of the chunk's first line in the file
}

/**
 * Split a multi-document stream at `---` markers. A marker at column 0 always starts a new
 * document in YAML (it even ends a block scalar), so a line scan is exact. Values are parsed
 * with js-yaml (fast); field positions are computed later, only for resources a message points at.
 */
export function splitDocuments(text: string): Chunk[] {
  const chunks: Chunk[] = [];
  const marker = /^---(?=[ \t\r\n]|$)/gm;
  let start = 0;
  let line = 1;
  let m: RegExpExecArray | null;
  while ((m = marker.exec(text))) {
    if (m.index > start) {
      chunks.push({ text: text.slice(start, m.index), firstLine: line });
      line += countLines(text, start, m.index);
      start = m.index;
    }
    marker.lastIndex = m.index + 3;
  }
  chunks.push({ text: text.slice(start), firstLine: line });
  return chunks;
}

function countLines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Line of the first content in a chunk (skipping `---`, comments and blank lines). */
function contentLine(text: string, firstLine: number): number {
  const lines = text.split('\n', 200);
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i].trim();
    if (t === '' || t.startsWith('#') || t.startsWith('%') || (t.startsWith('---') && t.slice(3).trim() === '')) continue;
    return firstLine + i;
  }
  return firstLine;
}

function addObject(result: LoadResult, item: unknown, origin: ResourceOrigin, opts: LoadOptions): void {
  const pos = { file: origin.file, line: origin.line };
  const { file, line } = pos;
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
    origin,
  });
}

const YAML_EXT = /\.(ya?ml|json)$/i;

/** Expand files and directories (*.yaml|*.yml|*.json, sorted; subdirectories when recursive) into a list of files. */
export function expandPaths(paths: readonly string[], recursive = false): { files: string[]; errors: MeshmedicError[] } {
  const files: string[] = [];
  const errors: MeshmedicError[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) {
        if (recursive) walk(p);
      } else if (YAML_EXT.test(name)) files.push(p);
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
  const { files, errors } = expandPaths(paths, opts.recursive);
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
