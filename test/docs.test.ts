import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ANALYZERS } from '../src/config/analysis/registry.js';

// The compatibility table must list every analyzer we register, so the docs cannot drift.
const root = new URL('../../', import.meta.url);

test('docs/istio-compatibility.md lists every registered analyzer', () => {
  const doc = readFileSync(new URL('docs/istio-compatibility.md', root), 'utf8');
  const missing = ANALYZERS.filter((a) => !doc.includes(`\`${a.name}\``)).map((a) => a.name);
  assert.deepEqual(missing, []);
});

test('README gives exactly the two set-up commands', () => {
  const readme = readFileSync(new URL('README.md', root), 'utf8');
  assert.match(readme, /^npm ci && npm run demo\b/m);
  assert.match(readme, /^npm ci && npm test\b/m);
});
