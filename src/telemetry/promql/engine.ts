import { compareLabels, dropMetricName, labelsKey } from '../store/labels.js';
import type { SeriesSamples } from '../store/metrics-store.js';
import type { InstantQueryResult, RangeQueryResult, RangeSeries } from '../metrics-source.js';
import { aggregate } from './aggregate.js';
import type { Expr, MatrixSelector, VectorSelector } from './ast.js';
import { scalarBinop, vectorBinop, vectorScalarBinop } from './binary.js';
import { MetricsQueryError, typeError, unsupported } from './errors.js';
import { FUNCTIONS } from './function-table.js';
import { INSTANT_FUNCTIONS } from './instant-functions.js';
import { parsePromQL } from './parse.js';
import { RANGE_FUNCTIONS } from './range-functions.js';
import { instantSamples, rangeWindows, type SampleReader } from './selector-data.js';
import { typeOf } from './types.js';
import { checkUniqueLabels, type Sample, type StepValue } from './values.js';

// Evaluates the PromQL subset over a SampleReader (the embedded store). A range query is
// evaluated step by step, as Prometheus defines it, but every selector reads its series once
// for the whole span and steps pick samples by binary search.

export interface EngineOptions {
  /** How far back an instant selector looks for a sample (Prometheus: 5m). */
  lookbackMs?: number;
  /** Most points per series a range query may ask for (Prometheus: 11,000). */
  maxPoints?: number;
}

export class PromQLEngine {
  private readonly lookbackMs: number;
  private readonly maxPoints: number;

  constructor(
    private readonly reader: SampleReader,
    opts: EngineOptions = {},
  ) {
    this.lookbackMs = opts.lookbackMs ?? 300_000;
    this.maxPoints = opts.maxPoints ?? 11_000;
  }

  instant(promql: string, timeMs: number): InstantQueryResult {
    const expr = parsePromQL(promql);
    const t = Math.round(timeMs);
    if (expr.kind === 'matrix') return { resultType: 'matrix', result: this.rawMatrix(expr, t) };
    if (typeOf(expr) === 'string') throw unsupported('string-result', 'string results are not supported');
    const step = new Step(this.prefetch(expr, t, t), this.lookbackMs);
    const v = step.eval(expr, t);
    if (v.type === 'scalar') return { resultType: 'scalar', result: [t / 1000, v.value] };
    if (v.type !== 'vector') throw unsupported('string-result', 'string results are not supported');
    checkUniqueLabels(v.samples);
    const samples = keepsOrder(expr) ? v.samples : [...v.samples].sort((a, b) => compareLabels(a.labels, b.labels));
    return { resultType: 'vector', result: samples.map((s) => ({ metric: { ...s.labels }, value: [t / 1000, s.value] })) };
  }

  range(promql: string, startMs: number, endMs: number, stepMs: number): RangeQueryResult {
    if (!(stepMs > 0)) throw new MetricsQueryError('E_QUERY_PARAM', 'zero or negative query resolution step widths are not accepted');
    if (endMs < startMs) throw new MetricsQueryError('E_QUERY_PARAM', 'end timestamp must not be before start time');
    if ((endMs - startMs) / stepMs + 1 > this.maxPoints) {
      throw new MetricsQueryError('E_PROMQL_LIMIT', `exceeded maximum resolution of ${this.maxPoints} points per timeseries; try decreasing the query resolution (?step=XX)`);
    }
    const expr = parsePromQL(promql);
    const type = typeOf(expr);
    if (type !== 'vector' && type !== 'scalar') throw typeError(`invalid expression type "${type === 'matrix' ? 'range vector' : type}" for range query, must be scalar or instant vector`);
    const start = Math.round(startMs);
    const end = Math.round(endMs);
    const step = new Step(this.prefetch(expr, start, end), this.lookbackMs);
    const series = new Map<string, RangeSeries & { sortLabels: Record<string, string> }>();
    for (let t = start; t <= end; t += stepMs) {
      const v = step.eval(expr, t);
      const samples = v.type === 'scalar' ? [{ labels: {}, value: v.value }] : v.type === 'vector' ? v.samples : [];
      checkUniqueLabels(samples);
      for (const s of samples) {
        const k = labelsKey(s.labels);
        let out = series.get(k);
        if (!out) series.set(k, (out = { metric: { ...s.labels }, values: [], sortLabels: s.labels }));
        out.values.push([t / 1000, s.value]);
      }
    }
    const result = [...series.values()].sort((a, b) => compareLabels(a.sortLabels, b.sortLabels)).map(({ metric, values }) => ({ metric, values }));
    return { resultType: 'matrix', result };
  }

  /** Reads every selector's series once for the span [start, end] of evaluation times. */
  private prefetch(expr: Expr, start: number, end: number): Map<VectorSelector, SeriesSamples[]> {
    const data = new Map<VectorSelector, SeriesSamples[]>();
    const visit = (e: Expr): void => {
      switch (e.kind) {
        case 'vector':
          data.set(e, this.reader.read(e.matchers, start - e.offsetMs - this.lookbackMs, end - e.offsetMs));
          return;
        case 'matrix':
          data.set(e.vector, this.reader.read(e.vector.matchers, start - e.vector.offsetMs - e.rangeMs, end - e.vector.offsetMs));
          return;
        case 'call':
          e.args.forEach(visit);
          return;
        case 'aggregate':
          if (e.param) visit(e.param);
          visit(e.expr);
          return;
        case 'binary':
          visit(e.lhs);
          visit(e.rhs);
          return;
        case 'unary':
          visit(e.expr);
          return;
        default:
          return;
      }
    };
    visit(expr);
    return data;
  }

  private rawMatrix(e: MatrixSelector, t: number): RangeSeries[] {
    const refT = t - e.vector.offsetMs;
    const series = this.reader.read(e.vector.matchers, refT - e.rangeMs, refT);
    return rangeWindows(series, refT, e.rangeMs)
      .sort((a, b) => compareLabels(a.series.labels, b.series.labels))
      .map((w) => ({
        metric: { ...w.series.labels },
        values: w.series.ts.slice(w.lo, w.hi).map((ts, i) => [ts / 1000, w.series.vs[w.lo + i]] as [number, number]),
      }));
  }
}

/** sort(), sort_desc(), topk() and bottomk() results keep their order; everything else is sorted by labels. */
function keepsOrder(e: Expr): boolean {
  return (e.kind === 'call' && (e.func === 'sort' || e.func === 'sort_desc')) || (e.kind === 'aggregate' && (e.op === 'topk' || e.op === 'bottomk'));
}

class Step {
  constructor(
    private readonly data: Map<VectorSelector, SeriesSamples[]>,
    private readonly lookbackMs: number,
  ) {}

  eval(e: Expr, t: number): StepValue {
    switch (e.kind) {
      case 'number':
        return { type: 'scalar', value: e.value };
      case 'string':
        return { type: 'string', value: e.value };
      case 'vector':
        return { type: 'vector', samples: instantSamples(this.data.get(e) ?? [], t - e.offsetMs, this.lookbackMs) };
      case 'matrix':
        throw typeError('a range vector cannot be evaluated here');
      case 'call':
        return this.call(e, t);
      case 'aggregate': {
        const param = e.param ? this.scalar(e.param, t) : NaN;
        return { type: 'vector', samples: aggregate(e, this.vector(e.expr, t), param) };
      }
      case 'unary': {
        const v = this.eval(e.expr, t);
        if (v.type === 'scalar') return { type: 'scalar', value: -v.value };
        if (v.type !== 'vector') throw typeError('unary minus needs a scalar or an instant vector');
        return { type: 'vector', samples: v.samples.map((s) => ({ labels: dropMetricName(s.labels), value: -s.value })) };
      }
      case 'binary': {
        const l = this.eval(e.lhs, t);
        const r = this.eval(e.rhs, t);
        if (l.type === 'scalar' && r.type === 'scalar') return { type: 'scalar', value: scalarBinop(e.op, l.value, r.value) };
        if (l.type === 'vector' && r.type === 'vector') return { type: 'vector', samples: vectorBinop(e.op, l.samples, r.samples, e.matching!, e.bool) };
        if (l.type === 'vector' && r.type === 'scalar') return checked(vectorScalarBinop(e.op, l.samples, r.value, false, e.bool));
        if (l.type === 'scalar' && r.type === 'vector') return checked(vectorScalarBinop(e.op, r.samples, l.value, true, e.bool));
        throw typeError(`invalid operands for ${e.op}`);
      }
    }
  }

  private call(e: Extract<Expr, { kind: 'call' }>, t: number): StepValue {
    const range = RANGE_FUNCTIONS[e.func];
    if (range) {
      const m = e.args[0] as MatrixSelector;
      const refT = t - m.vector.offsetMs;
      const ctx = { rangeStart: refT - m.rangeMs, rangeEnd: refT, rangeMs: m.rangeMs };
      const keepName = FUNCTIONS[e.func].keepsName;
      const samples: Sample[] = [];
      for (const w of rangeWindows(this.data.get(m.vector) ?? [], refT, m.rangeMs)) {
        const value = range(w, ctx);
        if (value !== undefined) samples.push({ labels: keepName ? w.series.labels : dropMetricName(w.series.labels), value });
      }
      return checked(samples);
    }
    const args = e.args.map((a) => this.eval(a, t));
    const v = INSTANT_FUNCTIONS[e.func](args, t);
    return v.type === 'vector' ? checked(v.samples) : v;
  }

  private vector(e: Expr, t: number): Sample[] {
    const v = this.eval(e, t);
    if (v.type !== 'vector') throw typeError('expected an instant vector');
    return v.samples;
  }

  private scalar(e: Expr, t: number): number {
    const v = this.eval(e, t);
    if (v.type !== 'scalar') throw typeError('expected a scalar');
    return v.value;
  }
}

function checked(samples: Sample[]): StepValue {
  checkUniqueLabels(samples);
  return { type: 'vector', samples };
}
