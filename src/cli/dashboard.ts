import type { Command } from 'commander';
import { dashboardUrl } from '../dashboard/dashboard-url.js';
import { requireControlPlane, stateDirOption } from './mesh-client.js';
import { outputFormatOption, printStructured } from './output.js';

// `meshmedic dashboard`: where the running mesh's web UI is, token included. It opens nothing:
// the mesh often runs on a machine without a display (open the URL from yours, through an SSH
// tunnel to the control plane's port if needed; it listens on 127.0.0.1 only).
export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description('Print the URL of the web dashboard of the running mesh (with its access token)')
    .option('-o, --output <format>', 'log, json or yaml', 'log')
    .option('--page <page>', 'graph, incidents, config, traces or summary', 'graph')
    .option('--state-dir <dir>', 'state directory')
    .action((opts) => {
      const format = outputFormatOption(opts.output);
      const cp = requireControlPlane(stateDirOption(opts));
      const url = dashboardUrl(cp, String(opts.page));
      if (format !== 'log') return printStructured({ url, controlPlane: cp.url }, format);
      process.stdout.write(`${url}\n`);
    });
}
