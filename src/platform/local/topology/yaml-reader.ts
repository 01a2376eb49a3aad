import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { MeshmedicError } from '../../../api/errors.js';
import { formatPath, type FieldPath } from '../../../api/resource.js';
import type { Parsed } from './units.js';

// Reads a small YAML document node by node, so every message carries the line of the field it
// is about. Topology files are small, so the yaml package's Document API (with positions) is
// used directly; the reader collects every error instead of stopping at the first.

export type YNode = Node | null | undefined;

/** The fields of one mapping: value and key nodes by name, in file order. */
export class Fields {
  constructor(
    readonly node: Node,
    readonly path: FieldPath,
    private readonly entries: Map<string, { key: Node; value: YNode }>,
  ) {}

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get(key: string): YNode {
    return this.entries.get(key)?.value;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  at(key: string): FieldPath {
    return [...this.path, key];
  }
}

export class YamlReader {
  readonly errors: MeshmedicError[] = [];
  readonly warnings: MeshmedicError[] = [];
  readonly root: YNode;
  private readonly lineCounter: LineCounter;
  private readonly doc: Document.Parsed;

  constructor(
    readonly file: string,
    text: string,
  ) {
    this.lineCounter = new LineCounter();
    this.doc = parseDocument(text, { lineCounter: this.lineCounter, prettyErrors: false, uniqueKeys: true });
    for (const e of this.doc.errors) {
      const line = e.linePos?.[0]?.line ?? this.lineCounter.linePos(e.pos[0]).line;
      const message = e.code === 'DUPLICATE_KEY' ? 'a key appears twice in the same mapping' : e.message.split('\n')[0];
      this.errors.push(new MeshmedicError('E_YAML_PARSE', message, { file, line }));
    }
    this.root = this.doc.contents as YNode;
  }

  line(node: YNode): number {
    const n = this.deref(node);
    return n?.range ? this.lineCounter.linePos(n.range[0]).line : 0;
  }

  fail(node: YNode, path: FieldPath, message: string): undefined {
    this.errors.push(new MeshmedicError('E_TOPOLOGY', message, { file: this.file, line: this.line(node) || 1 }, formatPath(path) || undefined));
    return undefined;
  }

  /** An error about something that has no node of its own (a whole service, a cycle), at a known line. */
  failAtLine(line: number, path: FieldPath, message: string): undefined {
    this.errors.push(new MeshmedicError('E_TOPOLOGY', message, { file: this.file, line: line || 1 }, formatPath(path) || undefined));
    return undefined;
  }

  warn(node: YNode, path: FieldPath, message: string): void {
    this.warnings.push(new MeshmedicError('E_TOPOLOGY', message, { file: this.file, line: this.line(node) || 1 }, formatPath(path) || undefined));
  }

  /** A mapping whose keys must all be in `allowed`; unknown keys are errors (with a suggestion) at their own line. */
  map(node: YNode, path: FieldPath, allowed: readonly string[]): Fields | undefined {
    const n = this.deref(node);
    if (!isMap(n)) return this.fail(node, path, `expected a mapping, found ${describe(n)}`);
    const entries = new Map<string, { key: Node; value: YNode }>();
    for (const pair of n.items) {
      if (!isPair(pair) || !isScalar(pair.key)) {
        this.fail(n, path, 'mapping keys must be plain strings');
        continue;
      }
      const key = String(pair.key.value);
      if (!allowed.includes(key)) {
        const hint = suggest(key, allowed);
        this.fail(pair.key, [...path, key], `unknown field "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
        continue;
      }
      entries.set(key, { key: pair.key, value: pair.value as YNode });
    }
    return new Fields(n, path, entries);
  }

  seq(node: YNode, path: FieldPath): YNode[] | undefined {
    const n = this.deref(node);
    if (!isSeq(n)) return this.fail(node, path, `expected a list, found ${describe(n)}`);
    return n.items as YNode[];
  }

  isSeq(node: YNode): boolean {
    return isSeq(this.deref(node));
  }

  isMap(node: YNode): boolean {
    return isMap(this.deref(node));
  }

  /** The plain value of a scalar (string, number, boolean, null), or undefined for collections. */
  scalar(node: YNode): unknown {
    const n = this.deref(node);
    return isScalar(n) ? n.value : undefined;
  }

  string(node: YNode, path: FieldPath, pattern?: { re: RegExp; what: string }): string | undefined {
    const v = this.scalar(node);
    if (typeof v !== 'string' || v === '') return this.fail(node, path, `expected a non-empty string, found ${describe(this.deref(node))}`);
    if (pattern && !pattern.re.test(v)) return this.fail(node, path, `"${v}" is not ${pattern.what}`);
    return v;
  }

  int(node: YNode, path: FieldPath, min: number, max: number): number | undefined {
    const v = this.scalar(node);
    if (typeof v !== 'number' || !Number.isInteger(v)) return this.fail(node, path, `expected a whole number, found ${describe(this.deref(node))}`);
    if (v < min || v > max) return this.fail(node, path, `${v} is out of range (${min}..${max})`);
    return v;
  }

  bool(node: YNode, path: FieldPath): boolean | undefined {
    const v = this.scalar(node);
    if (typeof v !== 'boolean') return this.fail(node, path, `expected true or false, found ${describe(this.deref(node))}`);
    return v;
  }

  /** A scalar read by one of the unit parsers (duration, size, percentage). */
  parsed<T>(node: YNode, path: FieldPath, parse: (v: unknown) => Parsed<T>): T | undefined {
    const n = this.deref(node);
    const r = parse(isScalar(n) ? n.value : undefined);
    return r.ok ? r.value : this.fail(node, path, r.message);
  }

  /** Labels: a mapping of strings. */
  labels(node: YNode, path: FieldPath): Record<string, string> | undefined {
    const n = this.deref(node);
    if (!isMap(n)) return this.fail(node, path, `expected a mapping of labels, found ${describe(n)}`);
    const out: Record<string, string> = {};
    for (const pair of n.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      const value = this.scalar(pair.value as YNode);
      if (!LABEL_KEY.test(key)) this.fail(pair.key as YNode, [...path, key], `"${key}" is not a valid label key`);
      else if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') this.fail(pair.value as YNode, [...path, key], 'label values must be strings');
      else if (!LABEL_VALUE.test(String(value))) this.fail(pair.value as YNode, [...path, key], `"${value}" is not a valid label value`);
      else out[key] = String(value);
    }
    return out;
  }

  private deref(node: YNode): YNode {
    return isAlias(node) ? (node.resolve(this.doc) as YNode) : node;
  }
}

const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

function describe(n: YNode): string {
  if (n == null) return 'nothing';
  if (isMap(n)) return 'a mapping';
  if (isSeq(n)) return 'a list';
  if (isScalar(n)) {
    if (n.value === null) return 'null';
    return typeof n.value === 'string' ? `"${n.value}"` : `${typeof n.value} ${String(n.value)}`;
  }
  return 'an unexpected node';
}

/** The allowed key closest to a misspelt one, when it is close enough to be a likely typo. */
export function suggest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const a of allowed) {
    const d = editDistance(key.toLowerCase(), a.toLowerCase());
    if (d < bestD) [best, bestD] = [a, d];
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
