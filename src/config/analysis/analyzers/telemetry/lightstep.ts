import type { Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';
import { meshConfigOf } from './util.js';

// The Lightstep tracing provider is deprecated in favour of OpenTelemetry. Telemetries that still
// trace through a Lightstep extension provider will break when it is removed.

function lightstepProviderNames(meshConfig: Record<string, any>): Set<string> {
  const providers: any[] = meshConfig.extensionProviders ?? [];
  return new Set(providers.filter((p) => p?.lightstep != null).map((p) => String(p.name)));
}

export const lightstepAnalyzer: Analyzer = {
  name: 'telemetry.LightstepAnalyzer',
  description: 'Warns about Telemetries that still trace through a Lightstep provider',
  inputs: ['Telemetry', 'MeshConfig'],
  codes: ['IST0002'],
  analyze(ctx) {
    const lightstep = lightstepProviderNames(meshConfigOf(ctx));
    if (lightstep.size === 0) return;
    for (const telemetry of ctx.list('Telemetry')) {
      for (const tracing of telemetry.spec?.tracing ?? []) {
        for (const provider of tracing?.providers ?? []) {
          if (!lightstep.has(provider?.name)) continue;
          const what = `tracing provider ${provider.name} uses Lightstep, which is deprecated; move it to an OpenTelemetry provider`;
          ctx.report(newMessage('IST0002', telemetry, [what]));
        }
      }
    }
  },
};
