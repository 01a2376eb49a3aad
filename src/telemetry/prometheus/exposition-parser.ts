// Prometheus text exposition format 0.0.4 (what Envoy serves at /stats/prometheus and our
// sidecars at :15090): `# HELP`, `# TYPE`, samples `name{label="value",...} value [timestamp]`,
// histograms as `_bucket{le}` / `_sum` / `_count`. Hand-written: the format is small and the
// scraper needs a scanner that hands out each sample's series text before parsing its labels,
// so a series seen in the previous scrape is found by that text alone (Prometheus's scrape
// cache does the same).

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface ExpositionSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestampMs?: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help?: string;
  samples: ExpositionSample[];
}

export class ExpositionError extends Error {
  readonly code = 'E_EXPOSITION_PARSE';
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'ExpositionError';
  }
}

/** One sample line as the scanner sees it: `series` is the text `name{...}` exactly as written. */
export interface ScannedSample {
  series: string;
  nameEnd: number; // series.slice(0, nameEnd) is the metric name
  value: number;
  timestampMs?: number;
  line: number;
}

export interface ScanHandlers {
  sample(s: ScannedSample): void;
  type?(name: string, type: MetricType, line: number): void;
  help?(name: string, text: string, line: number): void;
}

const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

const isNameStart = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58; // a-z A-Z _ :
const isNameChar = (c: number) => isNameStart(c) || (c >= 48 && c <= 57);
const isBlank = (c: number) => c === 32 || c === 9;

/** Scans the text line by line; throws ExpositionError at the first malformed line (Prometheus fails the whole scrape). */
export function scanExposition(text: string, handlers: ScanHandlers): void {
  let pos = 0;
  let lineNo = 0;
  const n = text.length;
  while (pos < n) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = n;
    lineNo++;
    let lineEnd = end;
    if (lineEnd > pos && text.charCodeAt(lineEnd - 1) === 13) lineEnd--; // tolerate CRLF
    let i = pos;
    while (i < lineEnd && isBlank(text.charCodeAt(i))) i++;
    if (i < lineEnd) {
      if (text.charCodeAt(i) === 35) comment(text, i + 1, lineEnd, lineNo, handlers);
      else handlers.sample(sampleLine(text, i, lineEnd, lineNo));
    }
    pos = end + 1;
  }
}

function comment(text: string, from: number, to: number, line: number, h: ScanHandlers): void {
  const body = text.slice(from, to).replace(/^[ \t]+/, '');
  const m = /^(HELP|TYPE)[ \t]+([a-zA-Z_:][a-zA-Z0-9_:]*)(?:[ \t]+(.*))?$/.exec(body);
  if (!m) return; // any other comment is ignored, as Prometheus does
  const rest = m[3] ?? '';
  if (m[1] === 'TYPE') {
    const type = rest.trim() as MetricType;
    if (!TYPES.has(type)) throw new ExpositionError(line, `unknown metric type "${rest.trim()}" for ${m[2]}`);
    h.type?.(m[2], type, line);
  } else h.help?.(m[2], unescapeHelp(rest), line);
}

function sampleLine(text: string, start: number, end: number, line: number): ScannedSample {
  let i = start;
  if (!isNameStart(text.charCodeAt(i))) throw new ExpositionError(line, `expected a metric name, got "${text.slice(start, end)}"`);
  while (i < end && isNameChar(text.charCodeAt(i))) i++;
  const nameEnd = i - start;
  if (text.charCodeAt(i) === 123 /* { */) i = skipLabels(text, i, end, line);
  const series = text.slice(start, i);
  if (i < end && !isBlank(text.charCodeAt(i))) throw new ExpositionError(line, `unexpected character after ${series}`);
  const fields = text.slice(i, end).trim().split(/[ \t]+/);
  if (fields.length < 1 || fields[0] === '') throw new ExpositionError(line, `no value for ${series}`);
  if (fields.length > 2) throw new ExpositionError(line, `too many fields after ${series}`);
  const value = parseValue(fields[0]);
  if (value === undefined) throw new ExpositionError(line, `invalid value "${fields[0]}" for ${series}`);
  let timestampMs: number | undefined;
  if (fields.length === 2) {
    if (!/^-?\d+$/.test(fields[1])) throw new ExpositionError(line, `invalid timestamp "${fields[1]}" for ${series}`);
    timestampMs = Number(fields[1]);
  }
  return { series, nameEnd, value, timestampMs, line };
}

/** Returns the index just past the closing brace. */
function skipLabels(text: string, open: number, end: number, line: number): number {
  let i = open + 1;
  let inValue = false;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (inValue) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inValue = false;
    } else if (c === 34) inValue = true;
    else if (c === 125 /* } */) return i + 1;
    i++;
  }
  throw new ExpositionError(line, 'unterminated label set');
}

/** Parses a Go float as Prometheus writes them: decimal, exponent, NaN, +Inf, -Inf. */
export function parseValue(s: string): number | undefined {
  const lower = s.toLowerCase();
  if (lower === 'nan') return NaN;
  if (lower === '+inf' || lower === 'inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return undefined;
  return Number(s);
}

/** Parses the label block of a series text (`name{a="1",b="x\"y"}`) into an object, in written order. */
export function parseSeriesLabels(series: string, nameEnd: number, line = 0): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = nameEnd;
  if (i >= series.length) return labels;
  i++; // {
  const n = series.length - 1; // index of }
  while (i < n) {
    while (i < n && isBlank(series.charCodeAt(i))) i++;
    if (i >= n) break;
    const nameStart = i;
    if (!isNameStart(series.charCodeAt(i)) || series.charCodeAt(i) === 58) throw new ExpositionError(line, `invalid label name in ${series}`);
    while (i < n && isNameChar(series.charCodeAt(i)) && series.charCodeAt(i) !== 58) i++;
    const name = series.slice(nameStart, i);
    while (i < n && isBlank(series.charCodeAt(i))) i++;
    if (series.charCodeAt(i) !== 61 /* = */) throw new ExpositionError(line, `expected = after label ${name} in ${series}`);
    i++;
    while (i < n && isBlank(series.charCodeAt(i))) i++;
    if (series.charCodeAt(i) !== 34) throw new ExpositionError(line, `expected a quoted value for label ${name} in ${series}`);
    i++;
    let value = '';
    let chunkStart = i;
    for (;;) {
      if (i >= n) throw new ExpositionError(line, `unterminated value for label ${name} in ${series}`);
      const c = series.charCodeAt(i);
      if (c === 34) break;
      if (c === 92) {
        value += series.slice(chunkStart, i);
        const e = series[i + 1];
        value += e === 'n' ? '\n' : e === '\\' ? '\\' : e === '"' ? '"' : `\\${e}`;
        i += 2;
        chunkStart = i;
        continue;
      }
      i++;
    }
    value += series.slice(chunkStart, i);
    i++; // closing quote
    if (Object.hasOwn(labels, name)) throw new ExpositionError(line, `duplicate label ${name} in ${series}`);
    // defineProperty: a label may be called `__proto__`, which plain assignment would not store.
    Object.defineProperty(labels, name, { value, enumerable: true, writable: true, configurable: true });
    while (i < n && isBlank(series.charCodeAt(i))) i++;
    if (i < n) {
      if (series.charCodeAt(i) !== 44 /* , */) throw new ExpositionError(line, `expected , or } in ${series}`);
      i++;
    }
  }
  return labels;
}

function unescapeHelp(s: string): string {
  return s.replace(/\\([\\n])/g, (_m, c: string) => (c === 'n' ? '\n' : '\\'));
}

const SUFFIXES: Record<MetricType, string[]> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['_sum', '_count'],
  counter: [],
  gauge: [],
  untyped: [],
};

/** Parses a whole exposition into families (samples grouped under the TYPE/HELP they follow). */
export function parseExposition(text: string): MetricFamily[] {
  const families: MetricFamily[] = [];
  const byName = new Map<string, MetricFamily>();
  let current: MetricFamily | undefined;
  const family = (name: string): MetricFamily => {
    let f = byName.get(name);
    if (!f) {
      f = { name, type: 'untyped', samples: [] };
      byName.set(name, f);
      families.push(f);
    }
    return f;
  };
  scanExposition(text, {
    type(name, type, line) {
      const f = family(name);
      if (f.samples.length > 0 || f.type !== 'untyped') throw new ExpositionError(line, `TYPE for ${name} must come before its samples, once`);
      f.type = type;
      current = f;
    },
    help(name, help) {
      const f = family(name);
      f.help = help;
      current = f;
    },
    sample(s) {
      const name = s.series.slice(0, s.nameEnd);
      const owner = current && (name === current.name || SUFFIXES[current.type].some((x) => name === current!.name + x)) ? current : family(name);
      current = owner;
      const sample: ExpositionSample = { name, labels: parseSeriesLabels(s.series, s.nameEnd, s.line), value: s.value };
      if (s.timestampMs !== undefined) sample.timestampMs = s.timestampMs;
      owner.samples.push(sample);
    },
  });
  return families;
}
