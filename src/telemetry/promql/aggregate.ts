import { labelsKey, onlyLabels, withoutLabels, type Labels } from '../store/labels.js';
import type { Aggregate } from './ast.js';
import type { Sample } from './values.js';

// Aggregation operators over one step's vector, grouped `by` or `without` labels, as Prometheus
// does: the result of sum/avg/count/min/max carries only the grouping labels; topk/bottomk
// return the chosen samples unchanged.

interface Group {
  labels: Labels;
  samples: Sample[];
}

/** Group labels per input label set, per aggregation node: the same objects recur at every step. */
const groupCache = new WeakMap<Aggregate, { set: ReadonlySet<string>; byLabels: WeakMap<Labels, { labels: Labels; key: string }> }>();

function groupOf(node: Aggregate, labels: Labels): { labels: Labels; key: string } {
  let c = groupCache.get(node);
  if (!c) groupCache.set(node, (c = { set: new Set(node.without ? [...node.grouping, '__name__'] : node.grouping), byLabels: new WeakMap() }));
  let g = c.byLabels.get(labels);
  if (!g) {
    const out = node.without ? withoutLabels(labels, c.set) : onlyLabels(labels, c.set);
    c.byLabels.set(labels, (g = { labels: out, key: labelsKey(out) }));
  }
  return g;
}

export function aggregate(node: Aggregate, samples: readonly Sample[], param: number): Sample[] {
  const groups = new Map<string, Group>();
  for (const s of samples) {
    const { labels, key } = groupOf(node, s.labels);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { labels, samples: [] }));
    g.samples.push(s);
  }
  const out: Sample[] = [];
  for (const g of groups.values()) {
    const vs = g.samples.map((s) => s.value);
    switch (node.op) {
      case 'sum':
        out.push({ labels: g.labels, value: kahanSum(vs) });
        break;
      case 'avg':
        out.push({ labels: g.labels, value: kahanSum(vs) / vs.length });
        break;
      case 'count':
        out.push({ labels: g.labels, value: vs.length });
        break;
      case 'min':
        out.push({ labels: g.labels, value: vs.reduce((a, v) => (v < a || Number.isNaN(a) ? v : a)) });
        break;
      case 'max':
        out.push({ labels: g.labels, value: vs.reduce((a, v) => (v > a || Number.isNaN(a) ? v : a)) });
        break;
      case 'quantile':
        out.push({ labels: g.labels, value: quantile(param, vs) });
        break;
      case 'topk':
      case 'bottomk': {
        const k = Math.floor(param);
        if (!(k >= 1)) break;
        const top = node.op === 'topk';
        // NaN sorts last either way, as in Prometheus.
        const sorted = [...g.samples].sort((a, b) => {
          if (Number.isNaN(a.value)) return Number.isNaN(b.value) ? 0 : 1;
          if (Number.isNaN(b.value)) return -1;
          return top ? b.value - a.value : a.value - b.value;
        });
        out.push(...sorted.slice(0, k));
        break;
      }
    }
  }
  return out;
}

/** Kahan-Neumaier summation, as Prometheus 3 uses for sum and avg (fewer rounding surprises). */
function kahanSum(vs: readonly number[]): number {
  let sum = 0;
  let c = 0;
  for (const v of vs) {
    const t = sum + v;
    if (Math.abs(sum) >= Math.abs(v)) c += sum - t + v;
    else c += v - t + sum;
    sum = t;
  }
  // Infinite sums would turn the compensation into NaN.
  return Number.isFinite(sum) ? sum + c : sum;
}

/** Prometheus's quantile() aggregation: linear interpolation between the closest ranks. */
function quantile(q: number, values: number[]): number {
  if (values.length === 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const v = [...values].sort((a, b) => a - b);
  const n = v.length;
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return v[lower] * (1 - weight) + v[upper] * weight;
}
