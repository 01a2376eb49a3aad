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
