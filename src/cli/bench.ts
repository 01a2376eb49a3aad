import type { Command } from 'commander';
import { Option } from 'commander';
import { stringify } from 'yaml';
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
    .option('--scenarios <list>', 'scenarios: comma-separated names (recovery), or how many (diagnosis)')
    .option('--seed <n>', 'seed of the benchmark\'s randomness')
    .option('--topology <path>', 'topology file or directory (bench diagnosis)')
    .option('--faults <list>', 'only these fault types, comma-separated (bench diagnosis)')
    .action(async (name: string, opts) => {
      const bench = BENCHMARKS[name];
      if (!bench) throw usageError(`unknown benchmark "${name}" (have: ${Object.keys(BENCHMARKS).join(', ')})`);
      const format = outputFormatOption(opts.output);
      const scenarios = opts.scenarios === undefined ? undefined : String(opts.scenarios).split(',').map((x) => x.trim()).filter(Boolean);
      const faults = opts.faults === undefined ? undefined : String(opts.faults).split(',').map((x) => x.trim()).filter(Boolean);
      const seed = opts.seed === undefined ? undefined : Number(opts.seed);
      if (seed !== undefined && !Number.isInteger(seed)) throw usageError(`--seed must be a whole number, got ${opts.seed}`);
      // Benchmarks that stream print their records as they come, progress always on stderr.
      const log = format === 'log' || bench.streams ? (s: string) => process.stderr.write(`${s}\n`) : () => {};
      const emit = (r: Record<string, unknown>) => process.stdout.write(format === 'yaml' ? `---\n${stringify(r)}` : `${JSON.stringify(r)}\n`);
      const figures = await bench.run({
        size: opts.size ? Number(opts.size) : undefined, runs: Number(opts.runs), ...(opts.data && { data: String(opts.data) }),
        ...(opts.topology && { topology: String(opts.topology) }), ...(scenarios && { scenarios }), ...(faults && { faults }), ...(seed !== undefined && { seed }), progress: log, emit,
      });
      if (bench.streams && format !== 'yaml') process.stdout.write(`${JSON.stringify(figures)}\n`);
      else if (format === 'log') for (const [k, v] of Object.entries(figures)) process.stdout.write(`${k}: ${JSON.stringify(v)}\n`);
      else printStructured(figures, format);
    });
}
