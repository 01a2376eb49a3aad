import type { Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';
import { meshConfigOf } from './util.js';

// An access-logging entry with no providers falls back to the mesh's default access-log providers.
// When the mesh config names none, the entry silently does nothing (unless it only disables logging).

function hasDefaultAccessLogProviders(meshConfig: Record<string, any>): boolean {
  return (meshConfig.defaultProviders?.accessLogging ?? []).length > 0;
}

export const providerAnalyzer: Analyzer = {
  name: 'telemetry.ProviderAnalyzer',
  description: 'Checks that Telemetry access logging names a provider when the mesh config sets no default one',
  inputs: ['Telemetry', 'MeshConfig'],
  codes: ['IST0157'],
  analyze(ctx) {
    if (hasDefaultAccessLogProviders(meshConfigOf(ctx))) return;
    for (const telemetry of ctx.list('Telemetry')) {
      for (const logging of telemetry.spec?.accessLogging ?? []) {
        if (logging?.disabled === true) continue;
        if ((logging?.providers ?? []).length > 0) continue;
        ctx.report(newMessage('IST0157', telemetry, [telemetry.metadata.name, telemetry.metadata.namespace ?? '']));
      }
    }
  },
};
