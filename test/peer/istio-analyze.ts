// `npm run peer:istio-analyze`: runs Istio's analyzer table, prints each failing case and,
// last, {"passed":N,"total":104}. Options: --case INDEX, --analyzer NAME (repeatable).
import { describe, loadCases, runCase } from './harness.js';

const args = process.argv.slice(2);
const pick = (flag: string) => args.flatMap((a, i) => (a === flag ? [args[i + 1]] : []));
const indexes = new Set(pick('--case').map(Number));
const analyzers = new Set(pick('--analyzer'));
const verbose = args.includes('-v');

const cases = loadCases().filter((c) => (indexes.size === 0 || indexes.has(c.index)) && (analyzers.size === 0 || analyzers.has(c.analyzerMetadataName)));
let passed = 0;
for (const c of cases) {
  const r = runCase(c);
  if (r.passed) {
    passed++;
    if (verbose) console.log(`ok   #${c.index} ${c.name}`);
  } else console.log(describe(r));
}
console.log(JSON.stringify({ passed, total: cases.length }));
