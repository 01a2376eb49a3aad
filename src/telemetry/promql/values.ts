import { labelsKey, type Labels } from '../store/labels.js';
import { MetricsQueryError } from './errors.js';

// Values flowing through one evaluation step.

export interface Sample {
  labels: Labels;
  value: number;
}

export type StepValue = { type: 'scalar'; value: number } | { type: 'vector'; samples: Sample[] } | { type: 'string'; value: string };

/** Prometheus refuses a vector with two samples of the same label set (e.g. rate() of two metrics that differ only by name). */
export function checkUniqueLabels(samples: Sample[]): void {
  if (samples.length < 2) return;
  const seen = new Set<string>();
  for (const s of samples) {
    const k = labelsKey(s.labels);
    if (seen.has(k)) throw new MetricsQueryError('E_PROMQL_EXEC', `vector cannot contain metrics with the same labelset: ${JSON.stringify(s.labels)}`);
    seen.add(k);
  }
}
