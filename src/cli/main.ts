#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { MeshmedicError } from '../api/errors.js';
import { registerAnalyze } from './analyze.js';
import { registerBench } from './bench.js';
import { registerChaos } from './chaos.js';
import { registerIncidents } from './incidents.js';
import { registerRecover } from './recover.js';
import { registerApply } from './apply.js';
import { registerInstall } from './install.js';
import { registerMeshLifecycle } from './mesh-lifecycle.js';
import { registerProxyCommands } from './proxy.js';
import { registerStatus } from './status.js';
import { registerRegister } from './register.js';
import { registerTrace } from './trace.js';
import { registerStat } from './stat.js';
import { registerGraph } from './graph.js';
import { registerDashboard } from './dashboard.js';
import { registerDemo } from './demo.js';
import { registerController } from './controller.js';
import { addPlatformOptions } from './platform-options.js';
import { EXIT_DATA_ERROR, EXIT_INCORRECT_USAGE, EXIT_UNKNOWN_ERROR, ExitError } from './exit-codes.js';

// The `meshmedic` command. Each subcommand lives in its own file and registers itself here.
// Errors a user can cause print one clear line and an istioctl exit code, never a stack trace.

export function buildProgram(): Command {
  const program = new Command('meshmedic')
    .description('A service mesh that finds what is wrong with your microservices and puts it right. Speaks Istio\'s config API.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError('(run with --help for usage)');
  addPlatformOptions(program);
  registerAnalyze(program);
  registerInstall(program);
  registerMeshLifecycle(program);
  registerStatus(program);
  registerApply(program);
  registerProxyCommands(program);
  registerRegister(program);
  registerBench(program);
  registerTrace(program);
  registerChaos(program);
  registerIncidents(program);
  registerRecover(program);
  registerStat(program);
  registerGraph(program);
  registerDashboard(program);
  registerDemo(program);
  registerController(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    return handleError(e);
  }
}

function handleError(e: unknown): number {
  if (e instanceof CommanderError) {
    // Help and version are "errors" to commander; they exit 0.
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    return EXIT_INCORRECT_USAGE; // commander already printed the message
  }
  if (e instanceof ExitError) {
    for (const line of e.lines) process.stderr.write(`${line}\n`);
    return e.exitCode;
  }
  if (e instanceof MeshmedicError) {
    process.stderr.write(`Error: ${e.format()}\n`);
    return EXIT_DATA_ERROR;
  }
  process.stderr.write(`Error: internal error: ${(e as Error)?.message ?? String(e)}\n`);
  if (process.env.MESHMEDIC_DEBUG) process.stderr.write(`${(e as Error)?.stack}\n`);
  return EXIT_UNKNOWN_ERROR;
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
