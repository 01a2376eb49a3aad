import { MeshmedicError } from '../api/errors.js';
import { namespaceOf, resourceKey, type Resource } from '../api/resource.js';
import { parseText } from '../config/loader.js';
import { defaultMeshConfig, defaultMeshNetworks } from '../config/mesh.js';
import { loadStructuralSchemas, validateStructure } from '../config/schema.js';
import type { ConfigStore } from '../config/store.js';
import { ANALYZERS } from '../config/analysis/registry.js';
import { origin as messageOrigin, reference, type Message } from '../config/analysis/message.js';
import { runAnalyzers } from '../config/analysis/runner.js';
import { canonicalJson } from './canonical.js';

// `apply` and `delete` of YAML/JSON text against the config store, as `kubectl apply -f` with
// istiod's validating webhook behind it: the text is parsed, checked against the published
// schemas (E_SCHEMA), then by Istio's own validation (IST0106); any error rejects the whole
// input and nothing is applied. Otherwise every changed resource goes in as one store version.

export interface Issue {
  code: string; // E_* input error or IST0xxx
  message: string;
  reference: string; // `file:line`, or '' when unknown
  origin?: string; // `Kind ns/name` for IST messages
  level?: string;
}

export type Action = 'created' | 'configured' | 'unchanged' | 'deleted' | 'not found';

export interface ResourceResult {
  kind: string;
  namespace: string;
  name: string;
  action: Action;
}

export interface Skipped {
  apiVersion: string;
  kind: string;
  reference: string;
}

export type ApplyOutcome =
  | { ok: true; version: number; applied: ResourceResult[]; warnings: Issue[]; skipped: Skipped[] }
  | { ok: false; errors: Issue[] };

export interface TextInput {
  /** One or more files, applied together: any error in any of them rejects them all. */
  documents: Array<{ text: string; file: string }>; // file: recorded as the resources' origin
  namespace: string; // for resources that name none
}

const VALIDATION_ANALYZERS = ANALYZERS.filter((a) => a.name.startsWith('schema.ValidationAnalyzer.'));

export async function applyText(store: ConfigStore, input: TextInput): Promise<ApplyOutcome> {
  const parsed = parse(input);
  if (!parsed.ok) return parsed;
  const resources = parsed.resources;
  await loadStructuralSchemas(resources);
  const errors: Issue[] = resources.flatMap(validateStructure).map(fromInputError);
  if (errors.length) return { ok: false, errors };
  const { messages } = runAnalyzers(resources, VALIDATION_ANALYZERS, { meshConfig: defaultMeshConfig(), meshNetworks: defaultMeshNetworks() });
  const rejected = messages.filter((m) => m.level === 'Error').map(fromMessage);
  if (rejected.length) return { ok: false, errors: rejected };
  const applied: ResourceResult[] = [];
  const changed: Resource[] = [];
  for (const r of resources) {
    const prev = store.get(r.info.id, namespaceOf(r), r.metadata.name);
    const action: Action = !prev ? 'created' : writtenForm(prev) === writtenForm(r) ? 'unchanged' : 'configured';
    if (action !== 'unchanged') changed.push(r);
    applied.push(result(r, action));
  }
  const version = changed.length ? store.apply(changed) : store.version;
  return { ok: true, version, applied, warnings: messages.filter((m) => m.level !== 'Error').map(fromMessage), skipped: parsed.skipped };
}

export type DeleteOutcome = { ok: true; version: number; deleted: ResourceResult[] } | { ok: false; errors: Issue[] };

/** Delete the resources the text names (kind, namespace, name); the rest of each object is not looked at. */
export function deleteText(store: ConfigStore, input: TextInput): DeleteOutcome {
  const parsed = parse(input);
  if (!parsed.ok) return parsed;
  const deleted: ResourceResult[] = [];
  let version = store.version;
  for (const r of parsed.resources) {
    const found = store.get(r.info.id, namespaceOf(r), r.metadata.name);
    if (found) version = store.delete(r.info.id, namespaceOf(r), r.metadata.name);
    deleted.push(result(r, found ? 'deleted' : 'not found'));
  }
  return { ok: true, version, deleted };
}

function parse(input: TextInput): { ok: true; resources: Resource[]; skipped: Skipped[] } | { ok: false; errors: Issue[] } {
  const loaded = { resources: [] as Resource[], skipped: [] as Array<{ file: string; line: number; apiVersion: string; kind: string }>, errors: [] as MeshmedicError[] };
  for (const d of input.documents) {
    const one = parseText(d.text, d.file, { defaultNamespace: input.namespace });
    loaded.resources.push(...one.resources);
    loaded.skipped.push(...one.skipped);
    loaded.errors.push(...one.errors);
  }
  if (loaded.errors.length) return { ok: false, errors: loaded.errors.map(fromInputError) };
  // One object per key, the last one written winning (as the loader does for files).
  const byKey = new Map<string, Resource>();
  for (const r of loaded.resources) {
    byKey.delete(resourceKey(r));
    byKey.set(resourceKey(r), r);
  }
  const skipped = loaded.skipped.map((s) => ({ apiVersion: s.apiVersion, kind: s.kind, reference: `${s.file}:${s.line}` }));
  if (byKey.size === 0) {
    return { ok: false, errors: [{ code: 'E_NO_RESOURCES', message: skipped.length ? 'no resource of a kind meshmedic knows' : 'no resources in the input', reference: input.documents.map((d) => d.file).join(', ') }] };
  }
  return { ok: true, resources: [...byKey.values()], skipped };
}

/** What a resource says, whatever file or line it came from: `unchanged` compares this. */
function writtenForm(r: Resource): string {
  return canonicalJson({ ...r.raw, metadata: r.metadata });
}

function result(r: Resource, action: Action): ResourceResult {
  return { kind: r.info.kind, namespace: namespaceOf(r), name: r.metadata.name, action };
}

function fromInputError(e: MeshmedicError): Issue {
  const pos = e.position;
  return {
    code: e.code,
    message: e.fieldPath ? `${e.fieldPath}: ${e.message}` : e.message,
    reference: pos ? (pos.line ? `${pos.file}:${pos.line}` : pos.file) : '',
  };
}

function fromMessage(m: Message): Issue {
  return { code: m.code, level: m.level, message: m.text, reference: reference(m), origin: messageOrigin(m) };
}
