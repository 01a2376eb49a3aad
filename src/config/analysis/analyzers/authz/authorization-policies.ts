import { namespaceOf, type Resource } from '../../../../api/resource.js';
import type { AnalysisContext, Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';
import { selectorMatches } from '../../util.js';
import { podInAmbientMode, podInMesh, selectorString } from '../sidecar/workloads.js';
import { meshConfigOf } from '../telemetry/util.js';

// An AuthorizationPolicy is enforced by the proxies of the workloads it selects. One that selects
// no in-mesh workload (sidecar or ambient) protects nothing, which usually means a wrong label or
// namespace. A source namespace pattern that matches no namespace is most likely a typo, and it
// silently narrows (or, in notNamespaces, fails to narrow) who is allowed.

type Labels = Record<string, string> | undefined;

/** Labels of in-mesh pods per namespace; a namespace with only out-of-mesh pods maps to []. */
function meshPodLabels(ctx: AnalysisContext): Map<string, Labels[]> {
  const byNs = new Map<string, Labels[]>();
  for (const pod of ctx.list('Pod')) {
    const list = byNs.get(namespaceOf(pod)) ?? [];
    byNs.set(namespaceOf(pod), list);
    if (podInMesh(ctx, pod) || podInAmbientMode(pod)) list.push(pod.metadata.labels);
  }
  return byNs;
}

function checkSelectsWorkloads(ctx: AnalysisContext, policy: Resource, podLabels: Map<string, Labels[]>, rootNamespace: string): void {
  const ns = namespaceOf(policy);
  const selector = policy.spec?.selector;
  const labels: Record<string, string> | undefined = selector?.matchLabels ?? undefined;
  const anyMatch = (candidates: readonly Labels[]) => candidates.some((l) => selectorMatches(labels ?? {}, l));

  if (ns === rootNamespace) {
    // Mesh-wide: without a selector it applies everywhere; with one, any namespace may hold the workload.
    if (selector != null && ![...podLabels.values()].some(anyMatch)) {
      ctx.report(newMessage('IST0127', policy, [selectorString(labels)]));
    }
    return;
  }
  const local = podLabels.get(ns) ?? [];
  if (selector == null) {
    if (local.length === 0) ctx.report(newMessage('IST0127', policy, ['']));
    return;
  }
  if (!anyMatch(local)) ctx.report(newMessage('IST0127', policy, [selectorString(labels)]));
}

/** Istio's namespace patterns: `*`, a `*suffix`, a `prefix*` or an exact name (case-insensitive). */
function namespacePatternMatches(pattern: string, ns: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*')) return ns.endsWith(pattern.slice(1));
  if (pattern.endsWith('*')) return ns.startsWith(pattern.slice(0, -1));
  return ns.toLowerCase() === pattern.toLowerCase();
}

function checkSourceNamespaces(ctx: AnalysisContext, policy: Resource, namespaces: readonly string[]): void {
  (policy.spec?.rules ?? []).forEach((rule: any, i: number) => {
    (rule?.from ?? []).forEach((from: any, j: number) => {
      for (const field of ['namespaces', 'notNamespaces'] as const) {
        (from?.source?.[field] ?? []).forEach((pattern: string, k: number) => {
          if (namespaces.some((ns) => namespacePatternMatches(pattern, ns))) return;
          const path = ['spec', 'rules', i, 'from', j, 'source', field, k];
          ctx.report(newMessage('IST0101', policy, ['namespace', pattern], path));
        });
      }
    });
  });
}

export const authorizationPoliciesAnalyzer: Analyzer = {
  name: 'auth.AuthorizationPoliciesAnalyzer',
  description: 'Checks that AuthorizationPolicies select in-mesh workloads and that their source namespaces exist',
  inputs: ['MeshConfig', 'AuthorizationPolicy', 'Namespace', 'Pod'],
  codes: ['IST0101', 'IST0127'],
  analyze(ctx) {
    const rootNamespace = meshConfigOf(ctx).rootNamespace ?? '';
    const podLabels = meshPodLabels(ctx);
    const namespaces = ctx.list('Namespace').map((n) => n.metadata.name);
    for (const policy of ctx.list('AuthorizationPolicy')) {
      checkSelectsWorkloads(ctx, policy, podLabels, rootNamespace);
      checkSourceNamespaces(ctx, policy, namespaces);
    }
  },
};
