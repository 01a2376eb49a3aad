import type { WorkloadInstance } from '../api/snapshot.js';
import type { Resource } from '../api/resource.js';
import { DETECTORS } from '../diagnosis/detection/registry.js';
import type { SloConfig } from '../diagnosis/detection/slo.js';
import type { CauseTarget, Detection } from '../diagnosis/model.js';
import { buildSnapshot } from '../diagnosis/signals/build-snapshot.js';
import { trafficSubjects } from '../diagnosis/detection/detector.js';
import { typicalLatency, type Features, type SignalSnapshot, type SignalWindow } from '../diagnosis/signals/snapshot.js';
import type { MetricsSource } from '../telemetry/metrics-source.js';
import type { SloFigures } from './model.js';

// Whether the SLO of what an action treats holds: diagnosis's own detectors (read-only use),
// over the last SLO window, against the baseline before the incident, restricted to the
// subjects the action is about: the cause's service (as its callers see it, and at its own
// sidecars), calls to it, the incident's subject when it is a service, an external host. For a
// restart, the instance must also be ready again. The figures (error ratio, p99, rps) are the
// service's as its callers see it.

export interface Watch {
  namespace: string;
  /** Short names of services in `namespace` whose checks must hold. */
  services: string[];
  /** External hosts whose checks must hold. */
  hosts: string[];
  /** An instance that must be ready (registry) for the SLO to hold. */
  ready?: { namespace: string; instance: string };
  baseline: SignalWindow;
  /**
   * Mean latency (ms) per detection subject when the action was applied. A subject whose latency
   * has since lost at least `LATENCY_RELIEF` of its excess over the baseline counts as restored,
   * even above the detector's threshold: an action may legitimately send users to a version
   * that is slower than the one they had (reviews v2/v3 call ratings; v1 does not), and the
   * verifier judges what the action fixed, not whether the mesh is as fast as before.
   */
  latencyAtApply?: Record<string, number>;
  /** Count refusals (401, 403) as failed requests in the figures: the cause is a security policy. */
  refusalsFail?: boolean;
}

/** The share of a latency excess an action must remove to count as a fix (see `Watch.latencyAtApply`). */
export const LATENCY_RELIEF = 0.8;

export interface SloProbe {
  measure(w: Watch, at: number): Promise<SloFigures & { failing: Detection[] }>;
}

export interface SloInputs {
  metrics: MetricsSource;
  resources?: () => readonly Resource[];
  instances: () => readonly WorkloadInstance[];
}

export class MetricsSloProbe implements SloProbe {
  constructor(
    private readonly inputs: SloInputs,
    private readonly slo: () => SloConfig,
  ) {}

  async measure(w: Watch, at: number): Promise<SloFigures & { failing: Detection[] }> {
    const s = this.slo();
    // Not `light` (detection's cheap read): the figures kept with the action include p99, which needs the buckets.
    const snap = await buildSnapshot({ metrics: this.inputs.metrics, resources: this.inputs.resources, instances: this.inputs.instances }, {
      at, current: { startMs: at - s.windowMs, endMs: at }, baseline: w.baseline,
    });
    const bases = new Map(trafficSubjects(snap).map((t) => [t.subject, typicalLatency(t.base)]));
    const failing = DETECTORS.flatMap((d) => d.evaluate(snap, s)).filter((d) => concerns(w, d) && !relieved(w, d, bases.get(d.subject) ?? null));
    const f = serviceFeatures(snap, w);
    const notReady = w.ready && !this.inputs.instances().some((i) => i.namespace === w.ready!.namespace && i.name === w.ready!.instance && i.healthy);
    if (notReady) failing.push({ check: 'ready', subject: `instance ${w.ready!.instance}.${w.ready!.namespace}`, namespace: w.ready!.namespace, value: 0, threshold: 1, window: 'now', at, text: `instance ${w.ready!.instance}.${w.ready!.namespace} is not ready` });
    return {
      at,
      errorRatio: (f?.errorRatio ?? 0) + (w.refusalsFail && f && f.requests > 0 ? ((f.codes['401'] ?? 0) + (f.codes['403'] ?? 0)) / f.requests : 0),
      p99Ms: f?.latency?.p99 ?? null,
      rps: f?.rps ?? 0,
      healthy: failing.length === 0,
      failing,
    };
  }
}

/** A latency detection whose excess the action has (mostly) removed; see `Watch.latencyAtApply`. */
function relieved(w: Watch, d: Detection, base: number | null): boolean {
  const atApply = w.latencyAtApply?.[d.subject];
  if (d.check !== 'latency' || atApply === undefined || base === null || !(atApply > base)) return false;
  return d.value <= base + (1 - LATENCY_RELIEF) * (atApply - base);
}

function concerns(w: Watch, d: Detection): boolean {
  // Nothing named: every service and call of the namespace.
  if (w.services.length === 0 && w.hosts.length === 0) return d.namespace === w.namespace && (d.subject.startsWith('service ') || d.subject.startsWith('edge '));
  for (const svc of w.services) {
    const name = `${svc}.${w.namespace}`;
    if (d.subject === `service ${name}` || d.subject === `service ${name} (inbound)` || d.subject.endsWith(` -> ${name}`)) return true;
  }
  for (const h of w.hosts) if (d.subject === `external ${h}` || d.subject.endsWith(` -> ${h}`)) return true;
  return false;
}

/** The first watched service's figures as its callers see them (its own sidecars when nobody calls it through one). */
function serviceFeatures(snap: SignalSnapshot, w: Watch): Features | null {
  for (const svc of w.services) {
    const e = snap.entities.find((x) => x.kind === 'service' && x.service === svc && x.namespace === w.namespace);
    if (e) return e.current.source?.requests ? e.current.source : e.current.destination;
  }
  for (const h of w.hosts) {
    const e = snap.entities.find((x) => x.kind === 'external' && x.host === h);
    if (e) return e.current.source;
  }
  return null;
}

/**
 * What to watch for an action treating `cause` in an incident about `subject` (`service
 * productpage.bookinfo`): the cause's service, and every service of the namespace the incident's
 * checks found failing (as itself or at the end of an edge), so an action is kept only when the
 * symptoms users had are gone, not merely when the service it touched is fine.
 */
export function watchFor(cause: CauseTarget, incident: { subject: string; namespace: string; onsetAt: number; detections?: ReadonlyArray<{ subject: string }> }, kind: string, slo: SloConfig): Watch {
  const services = new Set<string>();
  const hosts: string[] = [];
  if (cause.service && cause.namespace === incident.namespace) services.add(cause.service);
  if (cause.host) hosts.push(cause.host);
  for (const subject of [incident.subject, ...(incident.detections ?? []).map((d) => d.subject)]) {
    const m = /^service ([a-z0-9-]+)\.([a-z0-9-]+)/.exec(subject) ?? /^edge .+ -> ([a-z0-9-]+)\.([a-z0-9-]+)$/.exec(subject);
    if (m && m[2] === incident.namespace) services.add(m[1]);
  }
  if (cause.kind === 'config-change' && cause.resource) {
    // The service a VirtualService or DestinationRule is named after is the best guess of what it routes.
    if (cause.resource.namespace === incident.namespace) services.add(cause.resource.name);
  }
  const end = incident.onsetAt - 1000;
  return {
    namespace: cause.namespace || incident.namespace,
    services: [...services],
    hosts,
    ...(kind === 'restart-instance' && cause.instance && { ready: { namespace: cause.namespace, instance: cause.instance } }),
    ...(cause.kind === 'security-policy' && { refusalsFail: true }),
    baseline: { startMs: end - slo.baselineMs, endMs: end },
  };
}
