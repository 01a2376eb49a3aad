import type { Resource } from '../../../../api/resource.js';
import type { AnalysisContext, Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';
import { labelSelectorMatches, type LabelSelector } from './label-selector.js';

// Istio's sidecar injectors are mutating webhooks selected by namespace and pod labels. If two of
// them select the same pod, it is injected twice and breaks; if one points at a Service that does
// not exist, pod creation fails or silently skips injection. To find overlaps we try every
// combination of the labels that steer injection and require that at most one webhook fires.

const REVISION_LABEL = 'istio.io/rev';

interface Hook {
  /** `<configuration>/<webhook>`: a webhook's name is only unique inside its configuration. */
  key: string;
  owner: Resource;
  webhook: any;
}

/** Revisions the configuration serves: its own label plus any istio.io/rev in its selectors. */
function revisionsOf(cfg: Resource): string[] {
  const revs = new Set<string>();
  const own = cfg.metadata.labels?.[REVISION_LABEL];
  if (own !== undefined) revs.add(own);
  for (const wh of webhooksOf(cfg)) {
    for (const sel of [wh?.namespaceSelector, wh?.objectSelector] as Array<LabelSelector | undefined>) {
      const fromLabels = sel?.matchLabels?.[REVISION_LABEL];
      if (fromLabels !== undefined) revs.add(String(fromLabels));
      for (const req of sel?.matchExpressions ?? []) {
        if (req?.key === REVISION_LABEL) for (const v of req.values ?? []) revs.add(String(v));
      }
    }
  }
  return [...revs].sort();
}

function webhooksOf(cfg: Resource): any[] {
  return Array.isArray(cfg.raw?.webhooks) ? cfg.raw.webhooks : [];
}

function isIstioConfiguration(cfg: Resource): boolean {
  return webhooksOf(cfg).some((wh) => typeof wh?.name === 'string' && wh.name.endsWith('istio.io'));
}

/** The label sets worth probing: none, opted in, opted out; each again with every known revision. */
function probes(key: string, on: string, off: string, revisions: string[]): Array<Record<string, string>> {
  const base: Array<Record<string, string>> = [{}, { [key]: on }, { [key]: off }];
  return [...base, ...revisions.flatMap((rev) => base.map((b) => ({ ...b, [REVISION_LABEL]: rev })))];
}

function reportOverlaps(ctx: AnalysisContext, hooks: Hook[], revisions: string[]): void {
  const nsProbes = probes('istio-injection', 'enabled', 'disabled', revisions);
  const podProbes = probes('sidecar.istio.io/inject', 'true', 'false', revisions);
  for (const nsLabels of nsProbes) {
    for (const podLabels of podProbes) {
      const matched = hooks.filter(
        (h) => labelSelectorMatches(h.webhook?.namespaceSelector, nsLabels) && labelSelectorMatches(h.webhook?.objectSelector, podLabels),
      );
      const keys = [...new Set(matched.map((h) => h.key))];
      if (keys.length < 2) continue;
      for (const key of keys) {
        const others = keys.filter((k) => k !== key).sort();
        const owner = matched.find((h) => h.key === key)!.owner;
        ctx.report(newMessage('IST0139', owner, [`it overlaps with [${others.join(' ')}], so a pod could be injected twice`]));
      }
    }
  }
}

/** Webhooks that call an in-cluster Service need that Service to exist. */
function reportMissingServices(ctx: AnalysisContext, hooks: Hook[]): void {
  for (const h of hooks) {
    const svc = h.webhook?.clientConfig?.service;
    if (!svc) continue; // a URL, not a Service
    const ns = String(svc.namespace ?? ''), name = String(svc.name ?? '');
    if (!ctx.get('Service', ns, name)) {
      ctx.report(newMessage('IST0139', h.owner, [`the injector calls the control plane Service ${ns}/${name}, which does not exist`]));
    }
  }
}

export const webhookAnalyzer: Analyzer = {
  name: 'webhook.Analyzer',
  description: 'Checks that Istio injection webhooks do not overlap and point at existing Services',
  inputs: ['MutatingWebhookConfiguration', 'Service'],
  codes: ['IST0139'],
  analyze(ctx) {
    const hooks: Hook[] = [];
    const revisions = new Set<string>();
    for (const cfg of ctx.list('MutatingWebhookConfiguration')) {
      const revs = revisionsOf(cfg);
      // Only configurations that belong to Istio: revisioned, or with a webhook named *istio.io.
      if (revs.length === 0 && !isIstioConfiguration(cfg)) continue;
      for (const wh of webhooksOf(cfg)) hooks.push({ key: `${cfg.metadata.name}/${wh?.name ?? ''}`, owner: cfg, webhook: wh });
      for (const r of revs) revisions.add(r);
    }
    reportOverlaps(ctx, hooks, [...revisions].sort());
    reportMissingServices(ctx, hooks);
  },
};
