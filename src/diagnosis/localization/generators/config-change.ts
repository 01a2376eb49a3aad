import type { CauseMechanism, Evidence, RankedCause } from '../../model.js';
import { anyHostMatches, hostForms } from '../../signals/hosts.js';
import type { ConfigChangeSignal, Entity } from '../../signals/snapshot.js';
import type { CandidateGenerator, LocalizationContext } from '../context.js';
import { delta } from '../anomaly.js';
import { ejectedDuringAnomaly } from '../evidence.js';
import { combine, confidence, errorSeverity, latencySeverity, ms, pct } from '../scoring.js';

// A config change is to blame when it touched a host whose callers see the anomaly, shortly
// before the anomaly began, and the response flags name a mechanism config controls:
//   score = severity(of the touched hosts, as callers see them) x fit(mechanism) x fit(time) x confidence
// Mechanism fit (the flags of the failing calls, and what the change touched):
//   NR, NC (no route, no cluster)                               1.0   routing
//   UH while every instance of the host is ready (empty subset) 0.95  routing
//   DI, FI and the change touched a fault                       1.0   injected fault
//   UT and the change touched a timeout                         0.9   timeout
//   UO and the change touched a connection pool                 0.7   overload (the overload cause ranks first)
//   URX and the change touched retries                          0.6
//   anything else (timing only)                                 0.3
// An analyzer error on the changed resource lifts the fit to at least 0.9 (and is evidence).
// Time fit: 1 for a change at most 2 s before the anomaly began (or after it), then halving
// every 30 s before that. A change the baseline saw in force for 10 s or more while every host
// it touched served its callers healthy (under 2% errors) has proven itself: x0.2 (routing takes
// effect at once; a latent mistake, a pool too small for a later surge, has the overload cause
// for it). A change to a resource changed again since is not a candidate of its
// own: the latest change is (the resource is in its form now, and reverting an older version
// would undo the later one too, or, for the mesh's first apply, delete everything).

const ROUTING = ['NR', 'NC'];
/** In force this long in a healthy baseline, a change has proven itself. */
const PROVEN_MS = 10_000;
const PROVEN_FIT = 0.2;
/** The SLO's error ratio: under it, a host served its callers healthy. */
const HEALTHY_ERROR_RATIO = 0.02;

interface HostImpact {
  host: string;
  severity: number;
  requests: number;
  errorRatio: number;
  addedMs: number;
  flags: Record<string, number>;
  /** Every instance behind the host is ready. */
  allReady: boolean;
  /** Callers ejected some of its instances as outliers during the anomaly. */
  ejected: boolean;
}

export const configChangeGenerator: CandidateGenerator = {
  kind: 'config-change',
  propose(ctx: LocalizationContext): RankedCause[] {
    const out: RankedCause[] = [];
    const hosts = hostViews(ctx);
    const impacts = hostImpacts(ctx, hosts);
    const onset = ctx.snapshot.current.startMs;
    const changes = ctx.snapshot.configChanges;
    const key = (c: ConfigChangeSignal) => `${c.resource.kind}/${c.resource.namespace}/${c.resource.name}`;
    const latest = new Map<string, number>();
    for (const c of changes) latest.set(key(c), Math.max(latest.get(key(c)) ?? -Infinity, c.version));
    for (const c of changes) {
      if (c.version < latest.get(key(c))!) continue;
      const touched = impacts.filter((i) => speaksOf(c, i));
      const hit = touched.filter((t) => t.severity > 0.05);
      if (hit.length === 0) continue;
      const severity = Math.max(...hit.map((t) => t.severity));
      const requests = hit.reduce((s, t) => s + t.requests, 0);
      const { fit, mechanism, why } = mechanismFit(c, hit);
      const findings = ctx.snapshot.findings.filter((f) => f.resource && f.resource.kind === c.resource.kind && f.resource.namespace === c.resource.namespace && f.resource.name === c.resource.name);
      const analyzerFit = findings.some((f) => f.level === 'Error') ? 0.9 : findings.length ? 0.6 : 0;
      const timeFit = c.at >= onset - 2000 ? 1 : Math.pow(0.5, (onset - 2000 - c.at) / 30_000);
      const provenMs = ctx.snapshot.baseline.endMs - c.at;
      const proven = provenMs >= PROVEN_MS && servedHealthyInBaseline(hosts.filter((h) => speaksOf(c, h)));
      const score = severity * Math.max(fit, analyzerFit) * timeFit * (proven ? PROVEN_FIT : 1) * confidence(requests);
      if (score < 0.01) continue;
      const evidence: Evidence[] = [
        {
          signal: 'config',
          text: `${c.resource.kind} ${c.resource.namespace}/${c.resource.name} was ${c.type} at version ${c.version}, ${Math.round((onset - c.at) / 100) / 10} s before the anomaly began${c.details.length ? `: ${c.details.join('; ')}` : ''}${proven ? `; its hosts served their callers healthy for ${Math.round(provenMs / 1000)} s of the baseline after it` : ''}`,
          figures: { configVersion: c.version, at: c.at, secondsBeforeOnset: (onset - c.at) / 1000, provenSeconds: proven ? provenMs / 1000 : 0 },
        },
        ...hit.map((t) => ({
          signal: (Object.keys(t.flags).length ? 'flag' : 'metric') as Evidence['signal'],
          text: `callers of ${t.host} see ${pct(t.errorRatio)} errors${t.addedMs > 0 ? ` and +${ms(t.addedMs)}` : ''} over ${Math.round(t.requests)} requests${Object.keys(t.flags).length ? `, flags ${Object.entries(t.flags).map(([f, n]) => `${f} x${Math.round(n)}`).join(', ')}` : ''}${why ? ` (${why})` : ''}`,
          figures: { errorRatio: t.errorRatio, addedMs: t.addedMs, requests: t.requests, ...Object.fromEntries(Object.entries(t.flags).map(([f, n]) => [`flag_${f}`, n])) },
          query: `sum by (response_code, response_flags) (increase(istio_requests_total{reporter="source",destination_service=~"${escape(t.host)}(:.*)?"}[${Math.round(ctx.index.currentSeconds)}s]))`,
        })),
        ...findings.map((f) => ({ signal: 'analysis' as const, text: `${f.level} [${f.code}] ${f.text}`, figures: { code: f.code } })),
      ];
      out.push({
        target: { kind: 'config-change', namespace: c.resource.namespace, resource: { ...c.resource, configVersion: c.version } },
        mechanism,
        score,
        summary: `config change: ${c.resource.kind} ${c.resource.namespace}/${c.resource.name} (version ${c.version}) ${why || 'just before the anomaly'}`,
        evidence,
      });
    }
    return out;
  },
};

function mechanismFit(c: ConfigChangeSignal, hit: Array<HostImpact & { aliases: string[] }>): { fit: number; mechanism?: CauseMechanism; why: string } {
  const has = (flag: string) => hit.some((t) => Object.keys(t.flags).some((f) => f.split(',').includes(flag)));
  const touches = (a: string) => c.aspects.includes(a);
  if (ROUTING.some(has)) return { fit: 1, mechanism: 'routing', why: 'requests find no route or cluster (NR/NC)' };
  // UH with every instance ready and none ejected: the route leads to no endpoint at all.
  if (has('UH') && hit.some((t) => t.flags.UH && t.allReady && !t.ejected)) return { fit: 0.95, mechanism: 'routing', why: 'no healthy upstream while every instance is ready: the route selects no endpoint' };
  if ((has('FI') || has('DI')) && touches('fault')) return { fit: 1, mechanism: 'injected-fault', why: 'the change injects faults (DI/FI)' };
  if (has('UT') && touches('timeout')) return { fit: 0.9, mechanism: 'timeout', why: 'route timeouts fire (UT) after the change set one' };
  if (has('UO') && touches('connectionPool')) return { fit: 0.7, mechanism: 'overload', why: 'circuit breakers overflow (UO) after the change shrank the pool' };
  if (has('URX') && touches('retries')) return { fit: 0.6, why: 'retries run out (URX) after the change' };
  if (touches('routing') || touches('subsets')) return { fit: 0.45, why: 'the change moved traffic' };
  return { fit: 0.3, why: '' };
}

/** A host callers reach, and the FQDNs a Host header may stand for. */
interface HostView {
  host: string;
  aliases: string[];
  entity: Entity;
}

function hostViews(ctx: LocalizationContext): HostView[] {
  const entities: Entity[] = [...ctx.index.services.values(), ...ctx.index.externals.values()];
  return entities.map((e) => {
    const callerNamespaces = [...new Set(ctx.index.inEdges(e.host).map((x) => x.sourceNamespace))];
    const bare = e.host.replace(/:\d+$/, '');
    return { host: e.host, aliases: [...new Set([bare, ...callerNamespaces.flatMap((ns) => hostForms(bare, ns))])], entity: e };
  });
}

const speaksOf = (c: ConfigChangeSignal, h: { host: string; aliases: string[] }) => anyHostMatches(c.hosts, h.host) || h.aliases.some((a) => anyHostMatches(c.hosts, a));

/** The hosts a change speaks of had callers in the baseline, every one served under 2% errors. */
function servedHealthyInBaseline(hosts: readonly HostView[]): boolean {
  const base = hosts.map((h) => h.entity.baseline.source ?? h.entity.baseline.destination).filter((f): f is NonNullable<typeof f> => !!f && f.requests > 0);
  return base.length > 0 && base.every((f) => (f.errorRatio ?? 0) < HEALTHY_ERROR_RATIO);
}

/** Every host the callers reach now, with the anomaly they see on it. */
function hostImpacts(ctx: LocalizationContext, hosts: readonly HostView[]): Array<HostImpact & { aliases: string[] }> {
  const out: Array<HostImpact & { aliases: string[] }> = [];
  for (const { host, aliases, entity: e } of hosts) {
    const cur = e.current.source ?? e.current.destination;
    const base = e.baseline.source ?? e.baseline.destination;
    if (!cur || !(cur.requests > 0)) continue;
    const d = delta(cur, base);
    const errorRatio = d.errorExcessRps / d.rps;
    const severity = combine(errorSeverity(errorRatio), latencySeverity(d.addedMs, d.baseMeanMs));
    const flags: Record<string, number> = {};
    for (const [f, n] of Object.entries(cur.flags)) {
      const before = base && base.requests > 0 ? ((base.flags[f] ?? 0) / base.requests) * cur.requests : 0;
      if (n - before > 0.5) flags[f] = n - before;
    }
    const ready = ctx.index.registryInstances(e.namespace, e.service ?? '');
    out.push({ host, aliases, severity, requests: cur.requests, errorRatio, addedMs: Math.max(0, d.addedMs), flags, allReady: ready.length > 0 && ready.every((i) => i.ready), ejected: ejectedDuringAnomaly(ctx.snapshot, host) });
  }
  return out;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&');
}
