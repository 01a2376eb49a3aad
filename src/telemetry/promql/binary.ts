import { dropMetricName, labelsKey, onlyLabels, setLabel, withoutLabels, type Labels } from '../store/labels.js';
import { COMPARISON_OPS, type BinaryOp, type VectorMatching } from './ast.js';
import { MetricsQueryError } from './errors.js';
import type { Sample } from './values.js';

// Binary operators on one step's values, following Prometheus's engine (VectorBinop,
// VectorscalarBinop): vector matching on/ignoring, group_left/group_right, comparison filters
// and `bool`, set operators.

const ARITHMETIC = new Set<BinaryOp>(['+', '-', '*', '/', '%', '^']);

/** [value, keep]: for comparisons the value is the left operand and keep says whether it holds. */
export function elemBinop(op: BinaryOp, l: number, r: number): [number, boolean] {
  switch (op) {
    case '+': return [l + r, true];
    case '-': return [l - r, true];
    case '*': return [l * r, true];
    case '/': return [l / r, true];
    case '%': return [l % r, true];
    case '^': return [Math.pow(l, r), true];
    case '==': return [l, l === r];
    case '!=': return [l, l !== r];
    case '>': return [l, l > r];
    case '<': return [l, l < r];
    case '>=': return [l, l >= r];
    case '<=': return [l, l <= r];
    default: throw new Error(`not an element operator: ${op}`);
  }
}

export function scalarBinop(op: BinaryOp, l: number, r: number): number {
  const [v, keep] = elemBinop(op, l, r);
  return COMPARISON_OPS.has(op) ? (keep ? 1 : 0) : v;
}

/** vector op scalar (or scalar op vector, `scalarOnLeft`). */
export function vectorScalarBinop(op: BinaryOp, vector: readonly Sample[], scalar: number, scalarOnLeft: boolean, returnBool: boolean): Sample[] {
  const out: Sample[] = [];
  const comparison = COMPARISON_OPS.has(op);
  for (const s of vector) {
    const [l, r] = scalarOnLeft ? [scalar, s.value] : [s.value, scalar];
    let [value, keep] = elemBinop(op, l, r);
    // A comparison keeps the vector's value even when the scalar is on the left.
    if (comparison && scalarOnLeft) value = r;
    if (returnBool) {
      value = keep ? 1 : 0;
      keep = true;
    }
    if (!keep) continue;
    out.push({ labels: ARITHMETIC.has(op) || returnBool ? dropMetricName(s.labels) : s.labels, value });
  }
  return out;
}

/** Matching signatures per label set, per matching clause (the same objects recur at every step). */
const sigCache = new WeakMap<VectorMatching, WeakMap<Labels, string>>();

function signatureFn(m: VectorMatching): (l: Labels) => string {
  const names = new Set(m.labels);
  if (!m.on) names.add('__name__');
  let cache = sigCache.get(m);
  if (!cache) sigCache.set(m, (cache = new WeakMap()));
  const c = cache;
  return (l) => {
    let k = c.get(l);
    if (k === undefined) c.set(l, (k = labelsKey(m.on ? onlyLabels(l, names) : withoutLabels(l, names))));
    return k;
  };
}

export function vectorBinop(op: BinaryOp, lhs: readonly Sample[], rhs: readonly Sample[], m: VectorMatching, returnBool: boolean): Sample[] {
  const sig = signatureFn(m);
  if (op === 'and' || op === 'or' || op === 'unless') return setBinop(op, lhs, rhs, sig);
  const swap = m.card === 'one-to-many';
  const many = swap ? rhs : lhs;
  const one = swap ? lhs : rhs;
  // The "one" side must have one series per signature.
  const oneBySig = new Map<string, Sample>();
  for (const s of one) {
    const k = sig(s.labels);
    if (oneBySig.has(k)) {
      const side = swap ? 'left' : 'right';
      throw new MetricsQueryError('E_PROMQL_EXEC', `found duplicate series for the match group ${k.replace(/\u0000/g, ' ')} on the ${side} hand-side of the operation; many-to-many matching not allowed: matching labels must be unique on one side`);
    }
    oneBySig.set(k, s);
  }
  const out: Sample[] = [];
  const seenSig = new Set<string>(); // one-to-one: each match group once
  const seenResult = new Set<string>(); // group_left/right: each result label set once
  for (const ms of many) {
    const k = sig(ms.labels);
    const os = oneBySig.get(k);
    if (!os) continue;
    const [l, r] = swap ? [os.value, ms.value] : [ms.value, os.value];
    let [value, keep] = elemBinop(op, l, r);
    if (returnBool) {
      value = keep ? 1 : 0;
      keep = true;
    }
    if (!keep) continue;
    let labels = resultLabels(ms.labels, os.labels, op, m);
    if (returnBool) labels = dropMetricName(labels);
    if (m.card === 'one-to-one') {
      if (seenSig.has(k)) throw new MetricsQueryError('E_PROMQL_EXEC', 'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
      seenSig.add(k);
    } else {
      const rk = labelsKey(labels);
      if (seenResult.has(rk)) throw new MetricsQueryError('E_PROMQL_EXEC', 'multiple matches for labels: grouping labels must ensure unique matches');
      seenResult.add(rk);
    }
    out.push({ labels, value });
  }
  return out;
}

function resultLabels(many: Labels, one: Labels, op: BinaryOp, m: VectorMatching): Labels {
  let out: Labels = ARITHMETIC.has(op) ? dropMetricName(many) : many;
  if (m.card === 'one-to-one') out = m.on ? onlyLabels(out, new Set(m.labels)) : withoutLabels(out, new Set(m.labels));
  if (m.include.length) {
    const copy: Record<string, string> = { ...out };
    for (const n of m.include) {
      if (Object.hasOwn(one, n) && one[n] !== '') setLabel(copy, n, one[n]);
      else delete copy[n];
    }
    const sorted: Record<string, string> = {};
    for (const n of Object.keys(copy).sort()) setLabel(sorted, n, copy[n]);
    out = sorted;
  }
  return out;
}

function setBinop(op: 'and' | 'or' | 'unless', lhs: readonly Sample[], rhs: readonly Sample[], sig: (l: Labels) => string): Sample[] {
  const rhsSigs = new Set(rhs.map((s) => sig(s.labels)));
  if (op === 'and') return lhs.filter((s) => rhsSigs.has(sig(s.labels)));
  if (op === 'unless') return lhs.filter((s) => !rhsSigs.has(sig(s.labels)));
  const lhsSigs = new Set(lhs.map((s) => sig(s.labels)));
  return [...lhs, ...rhs.filter((s) => !lhsSigs.has(sig(s.labels)))];
}
