import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { FUNCTIONS } from '../../src/telemetry/promql/function-table.js';

// docs/metrics.md must name every function and aggregation the subset evaluates.

const doc = readFileSync(new URL('../../../docs/metrics.md', import.meta.url), 'utf8');

test('docs/metrics.md lists every supported PromQL function and aggregation', () => {
  const missing = [...Object.keys(FUNCTIONS), 'sum', 'avg', 'count', 'min', 'max', 'topk', 'bottomk', 'quantile'].filter((f) => !doc.includes(`\`${f}\``));
  assert.deepEqual(missing, []);
});
