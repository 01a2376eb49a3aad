import type { Command } from 'commander';
import { Option } from 'commander';
import { BENCHMARKS } from '../../bench/registry.js';
import { usageError } from './exit-codes.js';
import { outputFormatOption, printStructured } from './output.js';

// `meshmedic bench NAME`: runs a benchmark from bench/ and prints its figures.
export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('Run a benchmark and print its figures (JSON with -o json)')
    .argument('<name>', `benchmark: ${Object.keys(BENCHMARKS).join(', ')}`)
    .addOption(new Option('-o, --output <format>', 'output format: log, json or yaml').default('log'))
    .option('--size <n>', 'problem size (benchmark-specific)')
    .option('--runs <n>', 'timed runs', '5')
    .option('--data <dir>', 'data directory (benchmarks on recorded data)')
    .action(async (name: string, opts) => {
      const bench = BENCHMARKS[name];
      if (!bench) throw usageError(`unknown benchmark "${name}" (have: ${Object.keys(BENCHMARKS).join(', ')})`);
      const format = outputFormatOption(opts.output);
      const log = format === 'log' ? (s: string) => process.stderr.write(`${s}\n`) : () => {};
      const figures = await bench.run({ size: opts.size ? Number(opts.size) : undefined, runs: Number(opts.runs), ...(opts.data && { data: String(opts.data) }), progress: log });
      if (format === 'log') for (const [k, v] of Object.entries(figures)) process.stdout.write(`${k}: ${JSON.stringify(v)}\n`);
      else printStructured(figures, format);
    });
}
