import type { CauseMechanism, Evidence } from '../model.js';
import type { Entity, InstanceState, OutlierEventSignal } from '../signals/snapshot.js';
import { confidence, errorSeverity, ms, pct, rps } from './scoring.js';
import type { SignalIndex } from './signal-index.js';

// Whether an instance failed as a process (crashed, hung, lost its sidecar) rather than
// answering badly: the registry says it stopped being ready, its sidecar stopped answering
// scrapes, its sidecar could not reach it (UF, UC, UR and unanswered requests at its inbound),
// its share of its service's traffic collapsed while the service's did not, or callers ejected
// it as an outlier. These are facts about one instance, whatever the rest of its service does.

const PROCESS_FLAGS = ['UF', 'UC', 'UR', 'LR', 'DC'];
const EJECTION_SEVERITY = 0.3;

export interface ProcessFailure {
  namespace: string;
  instance: string;
  workload: string;
  service: string;
  host?: string;
  severity: number;
  confidence: number;
  mechanism: Extract<CauseMechanism, 'crash' | 'hang'>;
  evidence: Evidence[];
}

export function processFailures(index: SignalIndex): Map<string, ProcessFailure> {
  const out = new Map<string, ProcessFailure>();
  const snap = index.snapshot;
  const byInstance = new Map<string, Entity>();
  for (const e of snap.entities) if (e.kind === 'instance') byInstance.set(`${e.namespace}/${e.instance}`, e);
  const names = new Set([...snap.instances.map((i) => `${i.namespace}/${i.name}`), ...byInstance.keys()]);
  for (const key of [...names].sort()) {
    const [namespace, instance] = key.split('/');
    const f = assess(index, namespace, instance, byInstance.get(key), index.instanceState(namespace, instance), snap.outlierEvents.filter((e) => e.instance === instance && e.namespace === namespace));
    if (f) out.set(key, f);
  }
  return out;
}

function assess(index: SignalIndex, namespace: string, instance: string, entity: Entity | undefined, state: InstanceState | undefined, outliers: OutlierEventSignal[]): ProcessFailure | undefined {
  const snap = index.snapshot;
  const evidence: Evidence[] = [];
  const cur = entity?.current.destination ?? null;
  const base = entity?.baseline.destination ?? null;
  const baseRequests = (base?.rps ?? 0) * index.currentSeconds;
  let severity = 0;
  let refused = 0;
  let unanswered = 0;

  const notReady = state && !state.ready && (state.since !== undefined ? state.since >= snap.baseline.startMs : baseRequests > 0);
  if (notReady) {
    severity = 1;
    evidence.push({
      signal: 'registry',
      text: `instance ${instance}.${namespace} is not ready${state!.since !== undefined ? ` since ${new Date(state!.since).toISOString()}` : ''} (its readiness probe fails)`,
      figures: { ready: 0, ...(state!.since !== undefined && { sinceMs: state!.since }) },
    });
  }
  const transition = (notReady && state!.since !== undefined && state!.since >= snap.baseline.endMs) || state?.scrapeUp === false;
  if (state?.scrapeUp === false) {
    severity = 1;
    evidence.push({ signal: 'metric', text: `the sidecar of ${instance}.${namespace} does not answer scrapes (up == 0)`, figures: { up: 0 }, query: `up{namespace="${namespace}",pod="${instance}"}` });
  }
  if (cur && cur.requests > 0) {
    for (const [flags, n] of Object.entries(cur.flags)) {
      if (!PROCESS_FLAGS.some((f) => flags.split(',').includes(f))) continue;
      if (flags.includes('UF') || flags.includes('UC') || flags.includes('UR')) refused += n;
      else unanswered += n;
    }
    unanswered = Math.max(unanswered, (cur.codes['0'] ?? 0) - refused);
    const share = (refused + unanswered) / cur.requests;
    if (share > 0.05) {
      severity = Math.max(severity, errorSeverity(share));
      const flagText = Object.entries(cur.flags).filter(([f]) => PROCESS_FLAGS.some((p) => f.includes(p))).map(([f, n]) => `${f} x${Math.round(n)}`).join(', ');
      evidence.push({
        signal: 'flag',
        text: `its sidecar could not get answers from it: ${pct(share)} of ${Math.round(cur.requests)} inbound requests ${flagText ? `flagged ${flagText}` : 'unanswered (response code 0)'}`,
        figures: { share, requests: cur.requests, refused, unanswered },
        query: `sum by (response_flags, response_code) (increase(istio_requests_total{reporter="destination",namespace="${namespace}",pod="${instance}"}[${Math.round(index.currentSeconds)}s]))`,
      });
    }
  }
  // Its share of the service's traffic collapsed while the service kept its traffic.
  const svc = entity ? index.services.get(entity.host) : undefined;
  const baseShare = base && svc?.baseline.destination?.rps ? base.rps / svc.baseline.destination.rps : 0;
  const curShare = svc?.current.destination?.rps ? (cur?.rps ?? 0) / svc.current.destination.rps : null;
  const expected = baseShare * (svc?.current.destination?.rps ?? 0) * index.currentSeconds;
  if (baseShare > 0.05 && curShare !== null && curShare < 0.3 * baseShare && expected >= 10) {
    severity = Math.max(severity, 0.8);
    evidence.push({
      signal: 'metric',
      text: `it served ${pct(curShare)} of ${svc!.service}'s requests, down from ${pct(baseShare)} (${rps(cur?.rps ?? 0)} from ${rps(base!.rps)})`,
      figures: { share: curShare, baselineShare: baseShare, rps: cur?.rps ?? 0, baselineRps: base!.rps },
    });
  }
  // An ejection says the instance answered errors in a row: evidence of a failure, not which
  // kind (its application's errors are the version and service generators' to weigh).
  const ejections = outliers.filter((e) => e.kind === 'eject' && e.at >= snap.baseline.endMs);
  if (ejections.length) {
    severity = Math.max(severity, EJECTION_SEVERITY);
    const by = [...new Set(ejections.map((e) => e.reportedBy))];
    evidence.push({
      signal: 'outlier',
      text: `ejected as an outlier ${ejections.length} time(s) by ${by.slice(0, 3).join(', ')}${by.length > 3 ? ', ...' : ''} (${ejections[0].reason})`,
      figures: { ejections: ejections.length, firstMs: ejections[0].at },
    });
  }
  if (!(severity > 0)) return undefined;
  const added = cur?.meanMs != null && base?.meanMs != null ? cur.meanMs - base.meanMs : 0;
  if (added > 500) evidence.push({ signal: 'metric', text: `requests it did complete took ${ms(cur!.meanMs!)} on average, ${ms(base!.meanMs!)} before`, figures: { meanMs: cur!.meanMs!, baselineMeanMs: base!.meanMs! } });
  const mechanism = unanswered > refused || (added > 500 && refused === 0) ? 'hang' : 'crash';
  return {
    namespace,
    instance,
    workload: state?.workload ?? entity?.workload ?? instance,
    service: state?.service ?? entity?.service ?? instance,
    ...(entity && { host: entity.host }),
    severity,
    // A readiness or scrape transition during the anomaly is a fact, not an estimate from a few requests.
    confidence: Math.max(transition ? 0.9 : 0.3, confidence(baseRequests + refused + unanswered)),
    mechanism,
    evidence,
  };
}
