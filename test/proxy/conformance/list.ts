import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Prints the conformance table (every row of every file in this folder: id, Istio field, rule,
// todo) for the compatibility docs, without running anything:
//   node dist/test/proxy/conformance/list.js            Markdown
//   node dist/test/proxy/conformance/list.js --json     JSON
// The files are loaded in listing mode (table.ts), where rows are collected and no test,
// hook or socket is created; loading them all in one process also checks that ids are unique.

process.env.MESHMEDIC_CONFORMANCE = 'list';
const here = dirname(fileURLToPath(import.meta.url));
for (const file of readdirSync(here).filter((f) => f.endsWith('.test.js')).sort()) await import(pathToFileURL(join(here, file)).href);
const { conformanceRows } = await import('./table.js');
const rows = [...conformanceRows()].sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));

if (process.argv.includes('--json')) console.log(JSON.stringify(rows, null, 2));
else {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  console.log('| id | Istio field | rule checked | status |');
  console.log('| --- | --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.id} | \`${cell(r.field)}\` | ${cell(r.rule)} | ${r.todo ? `known difference: ${cell(r.todo)}` : 'conforms'} |`);
  console.log(`\n${rows.length} rows, ${rows.filter((r) => r.todo).length} known differences.`);
}
