import type { RankedCause } from '../../model.js';
import type { ConfigChangeSignal, Entity } from '../../signals/snapshot.js';
import type { CandidateGenerator, LocalizationContext } from '../context.js';
import { confidence, errorSeverity, pct } from '../scoring.js';

// A security policy is to blame when requests to a service start being refused (403, RBAC
// access denied) right after an AuthorizationPolicy, PeerAuthentication or RequestAuthentication
// that applies to its workloads changed: the policy, at that version, is the cause. (The
// security issue brings mTLS failures too; their flags will join here.)

const SECURITY_KINDS = new Set(['AuthorizationPolicy', 'PeerAuthentication', 'RequestAuthentication']);

export const securityPolicyGenerator: CandidateGenerator = {
  kind: 'security-policy',
  propose(ctx: LocalizationContext): RankedCause[] {
    const out: RankedCause[] = [];
    const changes = ctx.snapshot.configChanges.filter((c) => SECURITY_KINDS.has(c.resource.kind));
    if (changes.length === 0) return out;
    const onset = ctx.snapshot.current.startMs;
    for (const svc of ctx.index.services.values()) {
      const denied = deniedShare(svc);
      if (!denied || denied.excess <= 0.01) continue;
      for (const c of changes) {
        if (!appliesTo(c, svc, ctx)) continue;
        const timeFit = c.at >= onset - 2000 ? 1 : Math.pow(0.5, (onset - 2000 - c.at) / 30_000);
        const score = errorSeverity(denied.excess) * timeFit * confidence(denied.count);
        if (score < 0.01) continue;
        out.push({
          target: { kind: 'security-policy', namespace: c.resource.namespace, service: svc.service, resource: { ...c.resource, configVersion: c.version } },
          mechanism: 'denied',
          score,
          summary: `${c.resource.kind} ${c.resource.namespace}/${c.resource.name} (version ${c.version}) refuses requests to ${svc.service}.${svc.namespace}`,
          evidence: [
            { signal: 'metric', text: `${pct(denied.share)} of ${Math.round(denied.requests)} requests to ${svc.service} are refused with 403 (before: ${pct(denied.share - denied.excess)})`, figures: { share: denied.share, excess: denied.excess, requests: denied.requests }, query: `sum(increase(istio_requests_total{reporter="destination",destination_service="${svc.host}",response_code="403"}[${Math.round(ctx.index.currentSeconds)}s]))` },
            { signal: 'config', text: `${c.resource.kind} ${c.resource.namespace}/${c.resource.name} was ${c.type} at version ${c.version}${c.details.length ? `: ${c.details.join('; ')}` : ''}`, figures: { configVersion: c.version, at: c.at } },
          ],
        });
      }
    }
    return out;
  },
};

function deniedShare(e: Entity): { share: number; excess: number; count: number; requests: number } | undefined {
  const cur = e.current.destination ?? e.current.source;
  if (!cur || !(cur.requests > 0)) return undefined;
  const base = e.baseline.destination ?? e.baseline.source;
  const share = (cur.codes['403'] ?? 0) / cur.requests;
  const before = base && base.requests > 0 ? (base.codes['403'] ?? 0) / base.requests : 0;
  return { share, excess: share - before, count: cur.codes['403'] ?? 0, requests: cur.requests };
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
