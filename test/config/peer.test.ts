import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describe, knownFailures, loadCases, runCase } from '../peer/harness.js';
import { findAnalyzer } from '../../src/config/analysis/registry.js';

// Istio's own analyzer table. A case that regresses fails; a case listed as a known failure
// that now passes fails too, so the list in test/peer/known-failures.json stays true.
test('Istio analyzer test table (peer suite)', () => {
  const known = knownFailures();
  const regressions: string[] = [];
  const fixed: number[] = [];
  let passed = 0;
  const cases = loadCases();
  for (const c of cases) {
    const r = runCase(c);
    if (r.passed) passed++;
    const isKnown = String(c.index) in known;
    if (!r.passed && !isKnown) regressions.push(describe(r));
    if (r.passed && isKnown) fixed.push(c.index);
  }
  assert.deepEqual(regressions, [], `cases that fail:\n${regressions.join('\n')}`);
  assert.deepEqual(fixed, [], `cases listed in known-failures.json now pass; remove them: ${fixed.join(', ')}`);
  assert.ok(passed >= 99, `only ${passed}/${cases.length} cases pass`);
});

// Istio's CheckMetadataInputs: over the whole table, each analyzer reads exactly the kinds it
// declares (reading an undeclared kind already throws in the runner; this catches unused ones).
test('analyzers read every input they declare', () => {
  const read = new Map<string, Set<string>>();
  for (const c of loadCases()) {
    const seen = read.get(c.analyzerMetadataName) ?? new Set<string>();
    for (const k of runCase(c).read) seen.add(k);
    read.set(c.analyzerMetadataName, seen);
  }
  const unused: string[] = [];
  for (const [name, seen] of read) {
    if (name.startsWith('schema.')) continue;
    const declared = findAnalyzer(name)?.inputs ?? [];
    for (const k of declared) if (!seen.has(k)) unused.push(`${name} declares ${k} but never reads it`);
  }
  assert.deepEqual(unused, []);
});
