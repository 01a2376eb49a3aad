import { LineCounter, parseDocument, isNode, isMap, isSeq, isPair, isScalar, type Document } from 'yaml';
import type { KindInfo } from './kinds.js';

export type FieldPath = ReadonlyArray<string | number>;

/** Where a resource came from: enough to print `file:line` and to find the line of any field. */
export interface ResourceOrigin {
  file: string; // path as given, or '-' for stdin, or '' for built-in resources
  line: number; // 1-based line of the resource's first line; 0 when unknown
  /** The document's text and where it starts in the file, to locate fields on demand. */
  source?: { text: string; firstLine: number };
  basePath?: FieldPath; // path of this resource inside the document (items of a `kind: List`)
  /** The document parsed with positions, built the first time a field's line is asked for. */
  positions?: { doc: Document; lineCounter: LineCounter };
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  generation?: number;
  [k: string]: unknown;
}

/** One configuration object: an Istio resource, a Kubernetes object, or a synthetic mesh object. */
export interface Resource<Spec = any> {
  info: KindInfo;
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: Spec;
  status?: any;
  /** The whole object as written (for kinds whose data is not under `spec`: Secret, ConfigMap, webhooks). */
  raw: Record<string, any>;
  origin: ResourceOrigin;
}

export function namespaceOf(r: Resource): string {
  return r.metadata.namespace ?? '';
}

/** Istio's `Origin.FriendlyName()`: `Kind ns/name`, or `Kind name` when there is no namespace. */
export function friendlyName(r: Resource): string {
  const ns = namespaceOf(r);
  return ns ? `${r.info.kind} ${ns}/${r.metadata.name}` : `${r.info.kind} ${r.metadata.name}`;
}

export function resourceKey(r: Resource): string {
  return `${r.info.id}/${namespaceOf(r)}/${r.metadata.name}`;
}

/**
 * The 1-based line of a field, e.g. ['spec','http',0,'route',1,'destination','host'].
 * Falls back to the nearest ancestor that exists, then to the resource's own line.
 */
export function lineOf(r: Resource, path: FieldPath): number {
  const origin = r.origin;
  if (!origin.source) return origin.line;
  // Values are parsed by a fast parser without positions; positions are worked out here, once
  // per document, only for the few resources a message or error points at.
  origin.positions ??= parsePositions(origin.source.text);
  const { doc, lineCounter } = origin.positions;
  const full = [...(origin.basePath ?? []), ...path];
  for (let n = full.length; n >= 0; n--) {
    const node = nodeAt(doc, full.slice(0, n));
    if (node?.range) return origin.source.firstLine - 1 + lineCounter.linePos(node.range[0]).line;
  }
  return origin.line;
}

function parsePositions(text: string): { doc: Document; lineCounter: LineCounter } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false });
  return { doc, lineCounter };
}

function nodeAt(doc: Document, path: FieldPath): { range?: [number, number, number] | null } | undefined {
  let cur: unknown = doc.contents;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    if (isMap(cur)) {
      const pair = cur.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return undefined;
      // Point at the key, which is where a person looks for the field.
      if (i === path.length - 1) return isNode(pair.key) ? pair.key : undefined;
      cur = pair.value;
    } else if (isSeq(cur) && typeof seg === 'number') {
      cur = cur.items[seg];
    } else return undefined;
  }
  return isNode(cur) ? cur : undefined;
}

/** Dotted path for messages: spec.http[0].route[1].destination.host */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${seg}` : seg;
  return out;
}
