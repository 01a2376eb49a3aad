import { CLUSTER_SUFFIX } from '../signals/hosts.js';
import type { TraceCulprit } from '../signals/snapshot.js';
import { targetKey, type CauseTarget, type RankedCause } from '../model.js';
import type { LocalizationContext } from './context.js';
import { round3 } from './scoring.js';

// Merges the generators' proposals and orders them:
// 1. the same target proposed twice (an instance that crashed and also stood out) is one cause
//    with the higher score and both sets of evidence;
// 2. an application-level cause on a service whose callee is itself a strong candidate is
//    halved when the request metrics cannot show what the callee did to it: the callee is
//    reached over TCP (no request figures to subtract), or its process failed (a dead or hung
//    dependency reaches its callers through resets and timeouts the subtraction may miss), or a
//    policy refuses the calls (403s are not errors in the callee's figures); the deepest
//    component is the better answer. Calls with request figures were already subtracted;
// 2b. a `network` cause on the path to a service a policy refuses (edge into it, instance calling
//    it) is halved the same way: mismatched mutual TLS fails connections on the way;
// 3. traces corroborate: when sampled traces put the deepest failing (or slowest) span on the
//    cause's component, its score moves towards 1 by a quarter of the share of traces that do:
//    score + (1 - score) x 0.25 x share;
// 4. sorted by score (ties: the more specific kind first, then the key, so the order is stable).

const SPECIFICITY: Record<CauseTarget['kind'], number> = {
  'config-change': 0, 'security-policy': 1, external: 2, edge: 3, instance: 4, overload: 5, version: 6, service: 7,
};
const MIN_SCORE = 0.02;
const CALLEE_DISCOUNT = 0.5;
const TRACE_WEIGHT = 0.25;

export function rank(ctx: LocalizationContext, proposals: readonly RankedCause[], limit = 10): RankedCause[] {
  const merged = new Map<string, RankedCause>();
  for (const p of proposals) {
    const k = targetKey(p.target);
    const prev = merged.get(k);
    if (!prev) {
      merged.set(k, { ...p, evidence: [...p.evidence] });
      continue;
    }
    const [hi, lo] = p.score > prev.score ? [p, prev] : [prev, p];
    const texts = new Set(hi.evidence.map((e) => e.text));
    merged.set(k, { ...hi, evidence: [...hi.evidence, ...lo.evidence.filter((e) => !texts.has(e.text))] });
  }
  const causes = [...merged.values()];
  discountCallers(ctx, causes);
  discountRefusedPaths(ctx, causes);
  corroborate(ctx, causes);
  return causes
    .filter((c) => c.score >= MIN_SCORE)
    .map((c) => ({ ...c, score: round3(c.score) }))
    .sort((a, b) => b.score - a.score || SPECIFICITY[a.target.kind] - SPECIFICITY[b.target.kind] || (targetKey(a.target) < targetKey(b.target) ? -1 : 1))
    .slice(0, limit);
}

/** The host (FQDN or external host) a cause sits on, for the call graph. */
function hostOf(t: CauseTarget): string | undefined {
  if (t.kind === 'external') return t.host;
  if (t.service && t.kind !== 'edge' && t.kind !== 'config-change') return `${t.service}.${t.namespace}.${CLUSTER_SUFFIX}`;
  return undefined;
}

function discountCallers(ctx: LocalizationContext, causes: RankedCause[]): void {
  const strongest = new Map<string, RankedCause>();
  for (const c of causes) {
    const h = hostOf(c.target);
    if (h && (!strongest.has(h) || strongest.get(h)!.score < c.score)) strongest.set(h, c);
  }
  for (const c of causes) {
    if (!['service', 'version', 'instance'].includes(c.target.kind) || !(c.mechanism === 'errors' || c.mechanism === 'latency')) continue;
    const h = hostOf(c.target);
    if (!h) continue;
    // A refusal (403, mechanism 'denied') is a client error the callee's error figures do not count: hidden as well.
    const hidden = (callee: string, x: RankedCause) => x.mechanism === 'crash' || x.mechanism === 'hang' || x.mechanism === 'outage' || x.mechanism === 'denied' || ctx.index.callsTo(h, callee).some((e) => e.protocol === 'tcp');
    const callee = ctx.index
      .calleesOf(h)
      .map((x) => [x, strongest.get(x)] as const)
      .filter((p): p is readonly [string, RankedCause] => !!p[1] && p[1] !== c && p[1].score >= c.score * 0.5 && hidden(p[0], p[1]))
      .map(([, x]) => x)
      .sort((a, b) => b.score - a.score)[0];
    if (!callee) continue;
    c.score *= CALLEE_DISCOUNT;
    c.evidence.push({ signal: 'metric', text: `it calls ${callee.summary.split(':')[0]}, which fails at the same time (score ${round3(callee.score)}): the anomaly is more likely to come from there`, figures: { calleeScore: callee.score } });
  }
}

/**
 * Connections a security policy refuses (mutual TLS modes that do not match: 503 UC/UF at the
 * caller, nothing at the destination) look like a network fault on the path to the service: a
 * `network` cause (an edge into it, or an instance calling it) is halved when a `denied` cause on
 * that service scores at least half as much; the policy is the better answer.
 */
function discountRefusedPaths(ctx: LocalizationContext, causes: RankedCause[]): void {
  const refused = new Map<string, RankedCause>();
  for (const c of causes) if (c.mechanism === 'denied' && c.target.service) refused.set(`${c.target.service}.${c.target.namespace}.${CLUSTER_SUFFIX}`, c);
  if (refused.size === 0) return;
  for (const c of causes) {
    if (c.mechanism !== 'network') continue;
    const t = c.target;
    const hosts = t.kind === 'edge' && t.service ? [`${t.service}.${t.namespace}.${CLUSTER_SUFFIX}`] : t.kind === 'instance' && t.service ? ctx.index.calleesOf(`${t.service}.${t.namespace}.${CLUSTER_SUFFIX}`) : [];
    const policy = hosts.map((h) => refused.get(h)).find((p) => p && p.score >= c.score * 0.5);
    if (!policy) continue;
    c.score *= CALLEE_DISCOUNT;
    c.evidence.push({ signal: 'config', text: `${policy.summary.split(':')[0]}, which explains failures on the way (score ${round3(policy.score)})`, figures: { policyScore: policy.score } });
  }
}

function corroborate(ctx: LocalizationContext, causes: RankedCause[]): void {
  const t = ctx.snapshot.traces;
  if (!t || t.culprits.length === 0) return;
  const slowTotal = t.culprits.reduce((s, c) => s + c.slowTraces, 0);
  const slowBaseTotal = t.culprits.reduce((s, c) => s + c.baselineSlowTraces, 0);
  for (const c of causes) {
    const matching = t.culprits.filter((x) => culpritMatches(x, c.target));
    if (matching.length === 0) continue;
    const errors = matching.reduce((s, x) => s + x.errorTraces, 0);
    const errorShare = t.errorTraces > 0 ? errors / t.errorTraces : 0;
    const slowNow = slowTotal > 0 ? matching.reduce((s, x) => s + x.slowTraces, 0) / slowTotal : 0;
    const slowBefore = slowBaseTotal > 0 ? matching.reduce((s, x) => s + x.baselineSlowTraces, 0) / slowBaseTotal : 0;
    const slowShare = c.mechanism === 'latency' || c.mechanism === 'hang' ? Math.max(0, slowNow - slowBefore) : 0;
    const share = Math.max(errorShare, slowShare);
    if (!(share > 0)) continue;
    c.score += (1 - c.score) * TRACE_WEIGHT * share;
    c.evidence.push({
      signal: 'trace',
      text: errorShare >= slowShare
        ? `${errors} of ${t.errorTraces} sampled failing traces end in it (the deepest failing span, with healthy calls below)`
        : `in ${(slowNow * 100).toFixed(0)}% of sampled traces its span has the most time of its own (${(slowBefore * 100).toFixed(0)}% before)`,
      figures: { errorTraces: errors, totalErrorTraces: t.errorTraces, slowShare: slowNow, baselineSlowShare: slowBefore },
    });
  }
}

function culpritMatches(x: TraceCulprit, t: CauseTarget): boolean {
  if (t.kind === 'external') return x.service === t.host || x.service === t.host?.split('.')[0] && x.namespace === '';
  if (x.namespace !== t.namespace || !t.service || x.service !== t.service) return false;
  if (t.kind === 'instance') return x.instance === t.instance;
  if (t.kind === 'version') return x.workload === t.workload;
  return t.kind === 'service' || t.kind === 'overload';
}
