// The vocabulary of diagnosis, shared by detection, localization, incidents, the API, the CLI
// and (later) recovery: what can be blamed (a CauseTarget), why (Evidence), how strongly (a
// RankedCause's score) and the record of a fault as the mesh lived it (an Incident). Plain JSON
// throughout: causes cross the API and are stored in SQLite as they are.

/** What a cause names. Recovery picks its action by kind (and mechanism): keep the values stable. */
export type CauseKind = 'instance' | 'version' | 'service' | 'edge' | 'external' | 'config-change' | 'overload' | 'security-policy';

export const CAUSE_KINDS: readonly CauseKind[] = ['instance', 'version', 'service', 'edge', 'external', 'config-change', 'overload', 'security-policy'];

/** An Istio resource at a config store version. */
export interface ResourceRef {
  kind: string;
  namespace: string;
  name: string;
  /** The store version the change made (config-change causes). */
  configVersion?: number;
}

export interface CauseTarget {
  kind: CauseKind;
  namespace: string;
  /** The service's short name (`reviews`), for every kind that sits on a service. */
  service?: string;
  /** The workload (`reviews-v2`): version and instance causes; an edge's calling workload is `source`. */
  workload?: string;
  /** The `version` label of a version cause. */
  version?: string;
  /** The instance (pod-like name, `reviews-v2-0`) of an instance cause. */
  instance?: string;
  /** The calling workload of an edge (the destination is `service`). */
  source?: string;
  /** The calling service of an edge when every workload of it is affected alike. */
  sourceService?: string;
  /** The external host (ServiceEntry host) of an external cause. */
  host?: string;
  /** The resource of a config-change or security-policy cause. */
  resource?: ResourceRef;
}

/**
 * How the culprit fails, as far as the signals tell. Recovery chooses with it (restart a crashed
 * instance, route away from a bad version, revert a change, ...).
 */
export type CauseMechanism =
  | 'crash' // the process is gone: not ready, refused connections (UF), scrape down
  | 'hang' // the process is there but does not answer: resets and timeouts, no completions
  | 'errors' // the application answers with errors (5xx, gRPC non-OK)
  | 'latency' // the application answers slowly
  | 'network' // the path between two sidecars adds latency or failures the destination does not see
  | 'routing' // requests find no route, cluster or endpoint (NR, NC, UH with healthy instances)
  | 'injected-fault' // Istio fault injection (DI, FI)
  | 'overload' // circuit breakers overflow (UO) or traffic surged before latency grew
  | 'timeout' // route timeouts fire (UT)
  | 'outage' // an external dependency fails
  | 'denied' // requests refused by policy (403)
  | 'saturation'; // its CPU use rose (where the platform reports it)

export type EvidenceSignal = 'metric' | 'flag' | 'trace' | 'config' | 'outlier' | 'analysis' | 'registry';

export interface Evidence {
  signal: EvidenceSignal;
  /** A sentence a person can check, with the figures in it. */
  text: string;
  /** The numbers behind the sentence (ratios as fractions, latencies in ms, rates per second, counts). */
  figures: Record<string, number | string>;
  /** The PromQL the figures come from, to rerun on the control plane or on Prometheus. */
  query?: string;
}

export interface RankedCause {
  target: CauseTarget;
  mechanism?: CauseMechanism;
  /** 0..1, comparable across generators (docs/diagnosis.md: severity x fit x confidence). */
  score: number;
  /** One line: what is wrong with what. */
  summary: string;
  evidence: Evidence[];
}

/** The check that failed, on what, with the figure and the threshold it crossed. */
export interface Detection {
  check: string;
  /** `service reviews.bookinfo`, `workload reviews-v2.bookinfo`, `instance reviews-v2-0.bookinfo`, `edge productpage-v1 -> reviews.bookinfo`. */
  subject: string;
  namespace: string;
  value: number;
  threshold: number;
  /** The window the value was computed over (`5s`). */
  window: string;
  /** Evaluation time (ms since the epoch). */
  at: number;
  /** The sentence for people. */
  text?: string;
}

export type IncidentStatus = 'open' | 'closed';

export interface TimelineEntry {
  at: number;
  /** `opened`, `detection`, `ranked`, `top-cause`, `closed`, and later recovery's entries. */
  kind: string;
  text: string;
  data?: Record<string, unknown>;
}

export interface Incident {
  id: string;
  openedAt: number;
  closedAt?: number;
  status: IncidentStatus;
  /** What went wrong first (`service reviews.bookinfo`). */
  subject: string;
  namespace: string;
  /** When the anomaly began, as far as the signals tell (<= openedAt). */
  onsetAt: number;
  detections: Detection[];
  causes: RankedCause[];
  timeline: TimelineEntry[];
}

/** One incident in a list (GET /api/v1/incidents, `meshmedic incidents`): counts and the top cause, not the evidence. */
export interface IncidentSummary {
  id: string;
  status: IncidentStatus;
  namespace: string;
  subject: string;
  openedAt: number;
  onsetAt: number;
  closedAt?: number;
  detections: number;
  topCause?: { summary: string; score: number; kind: string; target: CauseTarget };
}

/** `reviews-v2-0.bookinfo (instance)`, `edge productpage-v1 -> reviews.bookinfo`: a target in one phrase. */
export function describeTarget(t: CauseTarget): string {
  const ns = t.namespace;
  switch (t.kind) {
    case 'instance':
      return `instance ${t.instance}.${ns}`;
    case 'version':
      return `version ${t.version} of ${t.service}.${ns} (workload ${t.workload})`;
    case 'service':
      return `service ${t.service}.${ns}`;
    case 'edge':
      return `edge ${t.sourceService ?? t.source} -> ${t.service}.${ns}`;
    case 'external':
      return `external host ${t.host}`;
    case 'overload':
      return `overload of service ${t.service}.${ns}`;
    case 'config-change':
    case 'security-policy':
      return `${t.kind === 'config-change' ? 'config change' : 'security policy'} ${t.resource?.kind} ${t.resource?.namespace}/${t.resource?.name}${t.resource?.configVersion !== undefined ? ` (version ${t.resource.configVersion})` : ''}`;
  }
}

/** A stable key of a target: the same culprit proposed twice is merged by it. */
export function targetKey(t: CauseTarget): string {
  const r = t.resource;
  return [t.kind, t.namespace, t.service ?? '', t.workload ?? '', t.instance ?? '', t.sourceService ?? t.source ?? '', t.host ?? '', r ? `${r.kind}/${r.namespace}/${r.name}@${r.configVersion ?? ''}` : ''].join('|');
}
