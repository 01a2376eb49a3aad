import { friendlyName, type Resource } from '../../api/resource.js';
import type { TelemetrySettings } from '../../api/snapshot.js';
import type { MeshConfig } from '../../config/mesh.js';
import type { NodeContext } from './node-context.js';
import type { Notes } from './notes.js';
import { accessLogSettings } from './telemetry-access-log.js';
import { metricsSettings } from './telemetry-metrics.js';
import { findProvider, providerNames } from './telemetry-providers.js';
import { applicableTelemetries } from './telemetry-selection.js';

// Istio's Telemetry API (telemetry.istio.io) and the mesh config's telemetry defaults, turned into
// what one sidecar does: its metrics, its access log, its trace sampling (`ProxySnapshot.telemetry`).
// Precedence as istiod's: root namespace (mesh-wide), then the proxy's namespace, then the
// workload's selector; fields meshmedic does not act on are reported as notes.

/** Istio's default trace sampling (pilot's PILOT_TRACE_SAMPLING / defaultConfig.tracing.sampling): 1%. */
export const DEFAULT_TRACE_SAMPLING = 1;

export function telemetrySettings(ctx: NodeContext): TelemetrySettings {
  const { levels } = applicableTelemetries(ctx.view.telemetries, ctx.view.rootNamespace, ctx.instance, ctx.notes);
  const mesh = ctx.view.meshConfig;
  return {
    metrics: metricsSettings(levels, mesh, ctx.notes),
    accessLog: accessLogSettings(levels, mesh, ctx.notes),
    tracing: { samplingPercent: samplingPercent(levels, mesh, ctx.notes) },
  };
}

/**
 * The trace sampling percentage: the last `randomSamplingPercentage` of the applicable levels'
 * `tracing` entries (later levels override), else the mesh config's
 * `defaultConfig.tracing.sampling`, else 1%; 0 when the mesh config disables tracing
 * (`enableTracing: false`) and no Telemetry sets a percentage.
 */
function samplingPercent(levels: Resource[], mesh: MeshConfig, notes: Notes): number {
  let percent: number | undefined;
  for (const t of levels) {
    const tracing: Array<Record<string, any>> = Array.isArray(t.spec?.tracing) ? t.spec.tracing : [];
    tracing.forEach((tr, i) => {
      const where = `${friendlyName(t)}: spec.tracing[${i}]`;
      if (tr?.match?.mode === 'CLIENT' || tr?.match?.mode === 'SERVER') notes.add(where, `match.mode ${tr.match.mode}: the local mesh samples with one percentage for both sides; it is applied to both`);
      if (tr?.customTags && Object.keys(tr.customTags).length > 0) notes.add(where, 'customTags are not implemented; spans carry the standard tags only');
      if (tr?.disableSpanReporting !== undefined) notes.add(where, 'disableSpanReporting is not implemented; sampled spans are reported');
      if (tr?.useRequestIdForTraceSampling === false) notes.add(where, 'useRequestIdForTraceSampling is not implemented');
      for (const name of providerNames(tr)) {
        const p = findProvider(mesh, name);
        if (p.kind === 'missing') notes.add(where, `tracing provider ${name} is not defined in the mesh config's extensionProviders`);
        else notes.add(where, `tracing provider ${name}: spans go to the control plane's trace store (and its OTLP export, when configured) whatever the provider`);
      }
      const v = Number(tr?.randomSamplingPercentage);
      if (tr?.randomSamplingPercentage != null && Number.isFinite(v)) percent = Math.min(100, Math.max(0, v));
    });
  }
  if (percent !== undefined) return percent;
  if (mesh.enableTracing === false) return 0;
  const sampling = Number(mesh.defaultConfig?.tracing?.sampling);
  return mesh.defaultConfig?.tracing?.sampling != null && Number.isFinite(sampling) ? Math.min(100, Math.max(0, sampling)) : DEFAULT_TRACE_SAMPLING;
}
