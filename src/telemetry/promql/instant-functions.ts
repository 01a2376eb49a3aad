import { compareLabels, dropMetricName } from '../store/labels.js';
import { histogramQuantile } from './histogram-quantile.js';
import type { Sample, StepValue } from './values.js';

// Functions over instant vectors and scalars (arguments already evaluated for the step).

type Args = StepValue[];

const vec = (a: StepValue): Sample[] => (a.type === 'vector' ? a.samples : []);
const num = (a: StepValue): number => (a.type === 'scalar' ? a.value : NaN);

function mapValues(samples: Sample[], f: (v: number) => number): Sample[] {
  return samples.map((s) => ({ labels: dropMetricName(s.labels), value: f(s.value) }));
}

function sortBy(samples: Sample[], desc: boolean): Sample[] {
  // NaN last in both orders, as Prometheus; ties broken by labels for a stable answer.
  return [...samples].sort((a, b) => {
    if (Number.isNaN(a.value) || Number.isNaN(b.value)) return Number.isNaN(a.value) ? (Number.isNaN(b.value) ? 0 : 1) : -1;
    const d = desc ? b.value - a.value : a.value - b.value;
    return d !== 0 ? d : compareLabels(a.labels, b.labels);
  });
}

export const INSTANT_FUNCTIONS: Record<string, (args: Args, timeMs: number) => StepValue> = {
  abs: (a) => ({ type: 'vector', samples: mapValues(vec(a[0]), Math.abs) }),
  ceil: (a) => ({ type: 'vector', samples: mapValues(vec(a[0]), Math.ceil) }),
  floor: (a) => ({ type: 'vector', samples: mapValues(vec(a[0]), Math.floor) }),
  sqrt: (a) => ({ type: 'vector', samples: mapValues(vec(a[0]), Math.sqrt) }),
  exp: (a) => ({ type: 'vector', samples: mapValues(vec(a[0]), Math.exp) }),
  ln: (a) => ({ type: 'vector', samples: mapValues(vec(a[0]), Math.log) }),
  log2: (a) => ({ type: 'vector', samples: mapValues(vec(a[0]), Math.log2) }),
  log10: (a) => ({ type: 'vector', samples: mapValues(vec(a[0]), Math.log10) }),
  round: (a) => {
    // Ties round up; dividing by the inverse keeps fewer float artefacts (Prometheus's way).
    const inverse = 1 / (a.length > 1 ? num(a[1]) : 1);
    return { type: 'vector', samples: mapValues(vec(a[0]), (v) => Math.floor(v * inverse + 0.5) / inverse) };
  },
  clamp: (a) => clamp(vec(a[0]), num(a[1]), num(a[2])),
  clamp_min: (a) => clamp(vec(a[0]), num(a[1]), Infinity),
  clamp_max: (a) => clamp(vec(a[0]), -Infinity, num(a[1])),
  histogram_quantile: (a) => ({ type: 'vector', samples: histogramQuantile(num(a[0]), vec(a[1])) }),
  scalar: (a) => {
    const s = vec(a[0]);
    return { type: 'scalar', value: s.length === 1 ? s[0].value : NaN };
  },
  vector: (a) => ({ type: 'vector', samples: [{ labels: {}, value: num(a[0]) }] }),
  time: (_a, t) => ({ type: 'scalar', value: t / 1000 }),
  sort: (a) => ({ type: 'vector', samples: sortBy(vec(a[0]), false) }),
  sort_desc: (a) => ({ type: 'vector', samples: sortBy(vec(a[0]), true) }),
};

function clamp(samples: Sample[], min: number, max: number): StepValue {
  if (max < min) return { type: 'vector', samples: [] };
  return { type: 'vector', samples: mapValues(samples, (v) => Math.max(min, Math.min(max, v))) };
}
