import type { Command } from 'commander';
import type { InstallRecord } from '../platform/local/state-dir.js';
import { stateDirOption } from './mesh-client.js';
import { usageError } from './exit-codes.js';

// `meshmedic install --profile demo|default|minimal`: prepares the state directory and records
// which add-ons `up` runs, as istioctl's install profiles decide which components run.

const PROFILES: Record<InstallRecord['profile'], InstallRecord['addons']> = {
  demo: { metrics: true, tracing: true, dashboard: true, autoRecover: true },
  default: { metrics: true, tracing: true, dashboard: true, autoRecover: false },
  minimal: { metrics: false, tracing: false, dashboard: false, autoRecover: false },
};

export function registerInstall(program: Command): void {
  program
    .command('install')
    .description('Prepare the state directory and choose which add-ons the local mesh runs')
    .option('--profile <name>', `install profile: ${Object.keys(PROFILES).join(', ')}`, 'default')
    .option('--state-dir <dir>', 'state directory (default .meshmedic, or $MESHMEDIC_HOME)')
    .action((opts) => {
      const profile = opts.profile as InstallRecord['profile'];
      const addons = PROFILES[profile];
      if (!addons) throw usageError(`unknown profile "${opts.profile}" (have: ${Object.keys(PROFILES).join(', ')})`);
      const state = stateDirOption(opts).ensure();
      state.saveInstall({ profile, addons, installedAt: new Date().toISOString() });
      process.stdout.write(`\u2714 meshmedic installed with profile "${profile}" in ${state.root}\n`);
      for (const [name, on] of Object.entries(addons)) process.stdout.write(`  ${on ? '+' : '-'} ${name}${on ? ' (arrives with its issue; not running yet)' : ''}\n`);
      process.stdout.write('Next: meshmedic up -f examples/bookinfo\n');
    });
}
