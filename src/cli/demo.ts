import type { Command } from 'commander';
import { DemoError } from '../demo/errors.js';
import { Interrupted, runDemo } from '../demo/demo.js';
import { demoExitCode, resultJson } from '../demo/result.js';
import { DEFAULT_SCENARIO, findScenario, SCENARIOS, scenarioNames } from '../demo/scenarios.js';
import { EXIT_INCORRECT_USAGE, EXIT_UNKNOWN_ERROR, ExitError, usageError } from './exit-codes.js';
import { outputFormatOption } from './output.js';

// `meshmedic demo`: the whole loop on Bookinfo in one command (docs/demo.md). Interactive by
// default; `--headless` runs one scenario and exits, `-o json` (headless) prints exactly one
// JSON object on stdout, the timeline going to stderr. Exit 0 only when the fix was verified
// and the root cause named was the injected one; 130 when interrupted before the end.

const EXIT_INTERRUPTED = 130;

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('Start Bookinfo with auto-recovery under steady load, inject a fault, and show detect -> diagnose -> recover -> verify as a timeline')
    .option('--scenario <name>', `the fault: ${scenarioNames().join(', ')}`, DEFAULT_SCENARIO)
    .option('--headless', 'run one scenario and exit (no waiting for Ctrl-C)')
    .option('-o, --output <format>', 'log, or json (implies --headless: one JSON object on stdout)', 'log')
    .option('--seed <n>', 'seed of the load generator (same seed, same request pattern)', '1')
    .option('--state-dir <dir>', 'state directory for the demo mesh (default: a temp directory, removed after)')
    .option('--without-recovery', 'leave recovery off (Istio-like defaults only), to see the same fault without meshmedic')
    .option('--list', 'list the scenarios and exit')
    .action(async (opts) => {
      if (opts.list) {
        for (const s of SCENARIOS) process.stdout.write(`${s.name.padEnd(16)} ${s.fault} on ${s.target}: ${s.description}\n`);
        return;
      }
      const format = outputFormatOption(opts.output, ['log', 'json']);
      const scenario = findScenario(String(opts.scenario));
      if (!scenario) throw new ExitError(EXIT_INCORRECT_USAGE, [`Error: no scenario "${opts.scenario}" (have: ${scenarioNames().join(', ')}) [E_DEMO_SCENARIO]`]);
      const seed = Number(opts.seed);
      if (!Number.isInteger(seed) || seed < 0) throw usageError(`--seed wants a whole number, got "${opts.seed}"`);
      const headless = !!opts.headless || format === 'json';
      const out = format === 'json' ? process.stderr : process.stdout;
      let interrupted = false;
      const interruptedP = new Promise<void>((resolve) => {
        const on = () => {
          interrupted = true;
          resolve();
        };
        // `on`, not `once`: a second Ctrl-C (or one forwarded by `npm run demo`) must not kill the
        // process before it has stopped the mesh.
        process.on('SIGINT', on);
        process.on('SIGTERM', on);
      });
      try {
        const run = await runDemo({ scenario, headless, seed, autoRecover: !opts.withoutRecovery, home: opts.stateDir, print: (l) => out.write(`${l}\n`), interrupted: interruptedP });
        if (format === 'json') process.stdout.write(`${resultJson(run.result)}\n`);
        process.exitCode = demoExitCode(run.result);
      } catch (e) {
        if (e instanceof Interrupted || interrupted) throw new ExitError(EXIT_INTERRUPTED, ['demo interrupted; every process it started was stopped']);
        if (e instanceof DemoError) throw new ExitError(EXIT_UNKNOWN_ERROR, [`Error: ${e.format()}`]);
        throw e;
      }
    });
}
