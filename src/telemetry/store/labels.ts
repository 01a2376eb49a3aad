// Label sets as the store and the query engine handle them: plain objects whose keys are in
// sorted order (so JSON output is stable and equal sets print the same), identified by a
// compact string key. Label objects are never mutated once built, so keys and derived sets
// (without the metric name) are cached per object: a range query meets the same objects at
// every step.

export type Labels = Readonly<Record<string, string>>;

export const METRIC_NAME = '__name__';

const SEP = '\u0000';

const keyCache = new WeakMap<Labels, string>();

/** A key equal for equal label sets (any key order). */
export function labelsKey(labels: Labels): string {
  let k = keyCache.get(labels);
  if (k !== undefined) return k;
  const names = Object.keys(labels).sort();
  k = '';
  for (const n of names) k += n + SEP + labels[n] + SEP;
  keyCache.set(labels, k);
  return k;
}

/** A copy with keys sorted and empty values dropped (Prometheus treats an empty label as absent). */
export function normalizeLabels(labels: Record<string, string>): Labels {
  const out: Record<string, string> = {};
  for (const n of Object.keys(labels).sort()) {
    const v = labels[n];
    if (v !== '' && v !== undefined) setLabel(out, n, v);
  }
  return out;
}

/** Assigns even the label `__proto__`, which plain assignment would turn into a prototype change. */
export function setLabel(target: Record<string, string>, name: string, value: string): void {
  if (name === '__proto__') Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
  else target[name] = value;
}

/** Labels without the given names (sorted order kept). */
export function withoutLabels(labels: Labels, names: ReadonlySet<string>): Labels {
  const out: Record<string, string> = {};
  for (const n of Object.keys(labels)) if (!names.has(n)) setLabel(out, n, labels[n]);
  return out;
}

/** Only the given names that are present. */
export function onlyLabels(labels: Labels, names: ReadonlySet<string>): Labels {
  const out: Record<string, string> = {};
  for (const n of Object.keys(labels)) if (names.has(n)) setLabel(out, n, labels[n]);
  return out;
}

const withoutNameCache = new WeakMap<Labels, Labels>();

export function dropMetricName(labels: Labels): Labels {
  if (!Object.hasOwn(labels, METRIC_NAME)) return labels;
  let out = withoutNameCache.get(labels);
  if (!out) withoutNameCache.set(labels, (out = withoutLabels(labels, NAME_SET)));
  return out;
}

const NAME_SET: ReadonlySet<string> = new Set([METRIC_NAME]);

/** Prometheus's label ordering for sorting results: compare sorted (name, value) pairs. */
export function compareLabels(a: Labels, b: Labels): number {
  const an = Object.keys(a);
  const bn = Object.keys(b);
  const n = Math.min(an.length, bn.length);
  for (let i = 0; i < n; i++) {
    if (an[i] !== bn[i]) return an[i] < bn[i] ? -1 : 1;
    const av = a[an[i]];
    const bv = b[bn[i]];
    if (av !== bv) return av < bv ? -1 : 1;
  }
  return an.length - bn.length;
}

/** Label names as Prometheus's relabelling (`labelmap`) makes them: invalid characters become `_`. */
export function sanitizeLabelName(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}
