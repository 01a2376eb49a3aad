import type { Evidence, RankedCause } from '../../model.js';
import type { ConfigChangeSignal, Entity, Features } from '../../signals/snapshot.js';
import type { CandidateGenerator, LocalizationContext } from '../context.js';
import { ejectedDuringAnomaly } from '../evidence.js';
import { confidence, errorSeverity, pct } from '../scoring.js';

// A security policy is to blame when requests to a service start failing the way that policy
// fails them, right after a policy that applies to its workloads changed: the policy, at that
// version, is the cause. The symptom depends on the kind:
//   AuthorizationPolicy    403 (RBAC: access denied), reported by the service's sidecars;
//   RequestAuthentication  401 (Jwt verification fails), reported by the service's sidecars;
//   PeerAuthentication     connections its mutual TLS mode refuses: the callers' sidecars
//                          answer 503 UC (plaintext closed under STRICT) or UF (a handshake a
//                          DISABLE server does not speak); the service itself sees nothing.
//                          Callers with outlier detection eject the instances after a few of
//                          those, and then answer 503 UH (no healthy upstream): while the
//                          service's instances are ejected, UH counts too, as the same refusal.
//   score = severity(excess share of the worst-hit service) x fit(time) x confidence(count)
// Time fit as config-change's: 1 up to 2 s before the window began, halving every 30 s before.
// One cause per change: a namespace-wide policy that refuses several services is one cause,
// named on the worst-hit service, with every refused service in its evidence (so recovery
// reverts it once). Config-change does not propose security kinds (they name no host), so the
// same change is never two causes. The callers of a refused service fail because of it; the
// ranker discounts their own causes (mechanism `denied` hides what the callee did to them).

type Kind = 'AuthorizationPolicy' | 'RequestAuthentication' | 'PeerAuthentication';

interface Symptom {
  /** What the failing requests look like, for the evidence. */
  what: string;
  /** Failing requests in the window, from one side's reports (`ejected`: callers ejected the service's instances meanwhile). */
  count(f: Features, ejected: boolean): number;
  /** The side whose reports show it: the service's own sidecars, or its callers'. */
  side: 'destination' | 'source';
}

const hasFlag = (f: Features, flags: readonly string[]) => Object.entries(f.flags).reduce((n, [k, v]) => (k.split(',').some((x) => flags.includes(x)) ? n + v : n), 0);

const SYMPTOMS: Record<Kind, Symptom> = {
  // On gRPC the refusal rides on HTTP 200: grpc-status 7 (PERMISSION_DENIED) for 403, 16 (UNAUTHENTICATED) for 401, as Envoy maps them.
  AuthorizationPolicy: { what: 'were refused with 403 (gRPC: PERMISSION_DENIED)', side: 'destination', count: (f) => (f.codes['403'] ?? 0) + (f.codes['grpc-7'] ?? 0) },
  RequestAuthentication: { what: 'were refused with 401 (gRPC: UNAUTHENTICATED)', side: 'destination', count: (f) => (f.codes['401'] ?? 0) + (f.codes['grpc-16'] ?? 0) },
  PeerAuthentication: {
    what: 'failed to connect (503 UC/UF: the mutual TLS modes of the two sides do not match; UH once callers ejected the instances for it)',
    side: 'source',
    count: (f, ejected) => {
      const refused = hasFlag(f, ['UC', 'UF']);
      return refused > 0 && ejected ? refused + hasFlag(f, ['UH']) : refused;
    },
  },
};

/** Below this excess share a service is not refused (a stray failure is not a policy change's doing). */
const MIN_EXCESS = 0.01;

interface Refused {
  svc: Entity;
  share: number;
  excess: number;
  count: number;
  requests: number;
  /** Calling workloads that see the failures, with their counts (their own reports). */
  callers: Array<{ workload: string; namespace: string; failed: number }>;
}

export const securityPolicyGenerator: CandidateGenerator = {
  kind: 'security-policy',
  propose(ctx: LocalizationContext): RankedCause[] {
    const changes = ctx.snapshot.configChanges.filter((c) => c.resource.kind in SYMPTOMS);
    if (changes.length === 0) return [];
    const onset = ctx.snapshot.current.startMs;
    const refusedBy = new Map<Kind, Refused[]>();
    const out: RankedCause[] = [];
    for (const c of changes) {
      const kind = c.resource.kind as Kind;
      if (!refusedBy.has(kind)) refusedBy.set(kind, refusedServices(ctx, SYMPTOMS[kind]));
      const hit = refusedBy.get(kind)!.filter((r) => appliesTo(c, r.svc, ctx)).sort((a, b) => b.excess - a.excess || b.count - a.count);
      if (hit.length === 0) continue;
      const worst = hit[0];
      const timeFit = c.at >= onset - 2000 ? 1 : Math.pow(0.5, (onset - 2000 - c.at) / 30_000);
      const score = errorSeverity(worst.excess) * timeFit * confidence(worst.count);
      if (score < 0.01) continue;
      const names = hit.map((r) => `${r.svc.service}.${r.svc.namespace}`);
      out.push({
        target: { kind: 'security-policy', namespace: c.resource.namespace, service: worst.svc.service, resource: { ...c.resource, configVersion: c.version } },
        mechanism: 'denied',
        score,
        summary: `${names.join(', ')}, refused by ${c.resource.kind} ${c.resource.namespace}/${c.resource.name} (version ${c.version}): ${pct(worst.share)} of requests ${SYMPTOMS[kind].what.split(' (')[0]} since the change`,
        evidence: [...hit.map((r) => refusalEvidence(r, SYMPTOMS[kind], ctx)), changeEvidence(c, onset)],
      });
    }
    return out;
  },
};

function refusedServices(ctx: LocalizationContext, s: Symptom): Refused[] {
  const out: Refused[] = [];
  for (const svc of ctx.index.services.values()) {
    const cur = svc.current[s.side];
    if (!cur || !(cur.requests > 0)) continue;
    const base = svc.baseline[s.side];
    const ejected = ejectedDuringAnomaly(ctx.snapshot, svc.host);
    const count = s.count(cur, ejected);
    const share = count / cur.requests;
    const before = base && base.requests > 0 ? s.count(base, false) / base.requests : 0;
    if (share - before <= MIN_EXCESS) continue;
    out.push({ svc, share, excess: share - before, count, requests: cur.requests, callers: failingCallers(ctx, svc, s, ejected) });
  }
  return out;
}

function refusalEvidence(r: Refused, s: Symptom, ctx: LocalizationContext): Evidence {
  const callers = r.callers.length ? `; refused callers: ${r.callers.map((x) => `${x.workload} (${Math.round(x.failed)})`).join(', ')}` : '';
  const query = s.side === 'destination'
    ? `sum by (source_workload) (increase(istio_requests_total{reporter="destination",destination_service="${r.svc.host}",response_code="${s === SYMPTOMS.RequestAuthentication ? 401 : 403}"}[${Math.round(ctx.index.currentSeconds)}s]))`
    : `sum by (source_workload, response_flags) (increase(istio_requests_total{reporter="source",destination_service="${r.svc.host}",response_flags=~".*(UC|UF|UH).*"}[${Math.round(ctx.index.currentSeconds)}s]))`;
  return {
    signal: s.side === 'source' ? 'flag' : 'metric',
    text: `${pct(r.share)} of ${Math.round(r.requests)} requests to ${r.svc.service} ${s.what} (before: ${pct(r.share - r.excess)})${callers}`,
    figures: { share: r.share, excess: r.excess, refused: r.count, requests: r.requests, refusedCallers: r.callers.length },
    query,
  };
}

function changeEvidence(c: ConfigChangeSignal, onset: number): Evidence {
  return {
    signal: 'config',
    text: `${c.resource.kind} ${c.resource.namespace}/${c.resource.name} was ${c.type} at version ${c.version}, ${when(onset - c.at)}${c.details.length ? `: ${c.details.join('; ')}` : ''}`,
    figures: { configVersion: c.version, at: c.at, secondsBeforeOnset: (onset - c.at) / 1000 },
  };
}

/** Where the change falls against the window the anomaly is judged in (it may fall inside it). */
function when(beforeMs: number): string {
  const s = Math.round(Math.abs(beforeMs) / 100) / 10;
  return beforeMs >= 0 ? `${s} s before the anomaly window began` : `${s} s into the anomaly window`;
}

/** Who sees the failures: calling workloads whose own (source) reports carry them. */
function failingCallers(ctx: LocalizationContext, svc: Entity, s: Symptom, ejected: boolean): Refused['callers'] {
  const out: Refused['callers'] = [];
  for (const e of ctx.index.inEdges(svc.host)) {
    const cur = e.current.source ?? e.current.destination;
    const failed = cur ? s.count(cur, ejected) : 0; // requests in the window
    if (failed >= 0.5 && e.sourceWorkload !== 'unknown') out.push({ workload: e.sourceWorkload, namespace: e.sourceNamespace, failed });
  }
  return out.sort((a, b) => b.failed - a.failed);
}

/** A policy of the service's namespace (or the root namespace) without a selector, or one selecting its app/version labels. */
function appliesTo(c: ConfigChangeSignal, svc: Entity, ctx: LocalizationContext): boolean {
  const selectors = c.workloads ?? [];
  const versions = new Set(ctx.index.workloadsOf(svc.host).map((w) => w.version).filter(Boolean));
  return selectors.some((s) => {
    const [ns, sel] = [s.slice(0, s.indexOf('/')), s.slice(s.indexOf('/') + 1)];
    if (ns !== svc.namespace && ns !== 'istio-system') return false;
    if (sel === '*') return true;
    const [k, v] = sel.split('=');
    return (k === 'app' && v === svc.service) || (k === 'version' && versions.has(v));
  });
}
