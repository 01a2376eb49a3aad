import { stringify } from 'yaml';
import { usageError } from './exit-codes.js';

// Output formats shared by commands, kubectl/istioctl style: `-o log|json|yaml`.
export type OutputFormat = 'log' | 'json' | 'yaml';

export function parseOutputFormat(value: string, allowed: readonly OutputFormat[]): OutputFormat {
  if (!(allowed as readonly string[]).includes(value)) throw new Error(`unknown output format "${value}" (want one of ${allowed.join(', ')})`);
  return value as OutputFormat;
}

/** The `-o` flag of a command: a bad value is a usage error (exit 64). */
export function outputFormatOption(value: string, allowed: readonly OutputFormat[] = ['log', 'json', 'yaml']): OutputFormat {
  try {
    return parseOutputFormat(value, allowed);
  } catch (e) {
    throw usageError((e as Error).message);
  }
}

export function printStructured(value: unknown, format: 'json' | 'yaml', out: NodeJS.WritableStream = process.stdout): void {
  out.write(format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : stringify(value));
}

/** kubectl-style columns: each padded to its widest cell, the last one left as is. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('   ');
  process.stdout.write(`${line(header)}\n`);
  for (const r of rows) process.stdout.write(`${line(r)}\n`);
}
