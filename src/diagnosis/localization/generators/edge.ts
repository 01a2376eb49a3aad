import type { RankedCause } from '../../model.js';
import { typicalLatency, type Edge, type Features } from '../../signals/snapshot.js';
import type { CandidateGenerator, LocalizationContext } from '../context.js';
import { delta } from '../anomaly.js';
import { combine, confidenceOrUnknown, errorSeverity, latencySeverity, ms, pct } from '../scoring.js';

// The network between two sidecars: on an edge, the source sidecar measures the whole call
// (network both ways + the destination's work), the destination sidecar only the destination's
// work. When the gap between the two grows, or the source sees failures the destination never
// saw (connection failures, resets), the path is to blame, not the service:
//   added gap = (src mean - dst mean) now - (src mean - dst mean) before
// The same on one calling instance's edges (source reports name the calling pod): when every
// call an instance makes is slow on the way, that instance's network is the cause.

const NETWORK_FLAGS = ['UF', 'UC', 'UR', 'LR', 'DC'];

interface EdgeNetwork {
  addedMs: number;
  errorRatio: number;
  severity: number;
  requests: number;
}

function networkOf(src: { cur: Features | null; base: Features | null }, dst: { cur: Features | null; base: Features | null }, destinationDown: boolean): EdgeNetwork | undefined {
  const s = delta(src.cur, src.base);
  if (!(s.rps > 0 || s.meanMs !== null) || !dst.cur) return undefined;
  const d = delta(dst.cur, dst.base);
  const gapNow = (s.meanMs ?? 0) - (d.meanMs ?? 0);
  const gapBefore = s.baseMeanMs !== null && d.baseMeanMs !== null ? s.baseMeanMs - d.baseMeanMs : 0;
  const addedMs = s.meanMs !== null && d.meanMs !== null ? gapNow - Math.max(0, gapBefore) : 0;
  const srcNetErrors = netErrors(src.cur) - netErrors(src.base) * (src.base?.rps ? s.rps / src.base.rps : 0);
  const dstErrors = d.errorExcessRps;
  const errorRatio = destinationDown || !(s.rps > 0) ? 0 : Math.max(0, srcNetErrors - dstErrors) / s.rps;
  const severity = combine(latencySeverity(addedMs, d.baseMeanMs ?? d.meanMs), errorSeverity(errorRatio));
  return { addedMs, errorRatio, severity, requests: s.requests };
}

/** Network-type failures the source saw, per second. */
function netErrors(f: Features | null): number {
  if (!f || !(f.requests > 0)) return 0;
  let n = 0;
  for (const [flags, count] of Object.entries(f.flags)) if (flags.split(',').some((x) => NETWORK_FLAGS.includes(x))) n += count;
  return (n / f.requests) * f.rps;
}

export const edgeGenerator: CandidateGenerator = {
  kind: 'edge',
  propose(ctx: LocalizationContext): RankedCause[] {
    const out: RankedCause[] = [];
    const snap = ctx.snapshot;
    const downHosts = new Set([...ctx.processFailures.values()].filter((f) => f.severity >= 0.5 && f.host).map((f) => f.host!));
    const byKey = new Map(snap.edges.map((e) => [`${e.sourceNamespace}/${e.sourceWorkload}|${e.host}`, e]));
    const netOf = (e: Edge, src: Edge) => networkOf({ cur: src.current.source, base: src.baseline.source }, { cur: e.current.destination, base: e.baseline.destination }, downHosts.has(e.host));

    // Calling instances whose every call is slow on the way: their own network.
    const podAffected = new Map<string, Array<{ edge: Edge; net: EdgeNetwork }>>();
    const podCalls = new Map<string, number>();
    for (const ie of snap.instanceEdges) {
      const e = byKey.get(`${ie.sourceNamespace}/${ie.sourceWorkload}|${ie.host}`);
      if (!e || e.external || ie.protocol === 'tcp' || !(ie.current.source?.rps)) continue;
      const key = `${ie.sourceNamespace}/${ie.sourceInstance}`;
      podCalls.set(key, (podCalls.get(key) ?? 0) + 1);
      const net = netOf(e, ie);
      if (net && net.severity >= 0.2) {
        let l = podAffected.get(key);
        if (!l) podAffected.set(key, (l = []));
        l.push({ edge: ie, net });
      }
    }
    const instanceSpecific = new Set<string>();
    for (const [key, affected] of podAffected) {
      const calls = podCalls.get(key) ?? 0;
      if (affected.length < calls) continue;
      const [namespace, instance] = key.split('/');
      const first = affected[0].edge;
      const peers = [...new Set(snap.instanceEdges.filter((x) => x.sourceWorkload === first.sourceWorkload && x.sourceNamespace === namespace && x.sourceInstance !== instance && x.current.source?.rps).map((x) => `${namespace}/${x.sourceInstance}`))];
      const peersFine = peers.some((p) => !podAffected.has(p) || podAffected.get(p)!.length < (podCalls.get(p) ?? 0));
      // Other instances of the workload call fine, or this one (alone in its workload) is slow
      // towards everything: the instance explains its edges. Every instance slow alike on the same
      // calls: the workload's path to its destinations does, not any one instance.
      if (peersFine || (peers.length === 0 && affected.length >= 2)) instanceSpecific.add(`${namespace}/${first.sourceWorkload}`);
      const severity = affected.reduce((s, a) => s + a.net.severity, 0) / affected.length;
      const requests = affected.reduce((s, a) => s + a.net.requests, 0);
      // One call only: the edge is as likely; two or more calls all slow on the way: the instance.
      // Its peers slow alike: the workload's edges explain it better.
      const fit = (affected.length >= 2 ? 1 : 0.75) * (peers.length && !peersFine ? 0.5 : 1);
      out.push({
        target: { kind: 'instance', namespace, workload: first.sourceWorkload, instance, ...(first.sourceService && { service: serviceName(first.sourceService) }) },
        mechanism: 'network',
        score: severity * fit * confidenceOrUnknown(requests, true),
        summary: `network of instance ${instance}.${namespace}: every call it makes is slower on the way than at the destination`,
        evidence: affected.map(({ edge, net }) => ({
          signal: 'metric' as const,
          text: `its calls to ${edge.service} take ${ms(net.addedMs)} longer at its sidecar than the destination's sidecars measured${net.errorRatio > 0 ? `, and ${pct(net.errorRatio)} fail on the way` : ''}`,
          figures: { addedMs: net.addedMs, networkErrorRatio: net.errorRatio, requests: net.requests },
          query: gapQuery(edge, Math.round(ctx.index.currentSeconds), instance),
        })),
      });
    }

    // Edges from workloads (grouped by calling service when every workload of it is affected alike).
    const affectedEdges: Array<{ edge: Edge; net: EdgeNetwork }> = [];
    for (const e of snap.edges) {
      if (e.external || e.protocol === 'tcp' || e.sourceWorkload === 'unknown') continue;
      const net = netOf(e, e);
      if (net && net.severity >= 0.1) affectedEdges.push({ edge: e, net });
    }
    const groups = new Map<string, Array<{ edge: Edge; net: EdgeNetwork }>>();
    for (const a of affectedEdges) {
      const callers = snap.edges.filter((x) => x.host === a.edge.host && x.sourceService && x.sourceService === a.edge.sourceService && x.current.source?.rps);
      const allAffected = a.edge.sourceService !== undefined && callers.length > 1 && callers.every((x) => affectedEdges.some((y) => y.edge === x));
      const key = allAffected ? `service|${a.edge.sourceService}|${a.edge.host}` : `workload|${a.edge.sourceNamespace}/${a.edge.sourceWorkload}|${a.edge.host}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = []));
      g.push(a);
    }
    for (const [key, g] of groups) {
      const first = g[0].edge;
      const byService = key.startsWith('service|');
      const severity = g.reduce((s, a) => s + a.net.severity, 0) / g.length;
      const requests = g.reduce((s, a) => s + a.net.requests, 0);
      const fit = !byService && instanceSpecific.has(`${first.sourceNamespace}/${first.sourceWorkload}`) ? 0.6 : 1;
      const from = byService ? serviceName(first.sourceService!) : first.sourceWorkload;
      out.push({
        target: {
          kind: 'edge', namespace: first.namespace, service: first.service, source: first.sourceWorkload,
          ...(byService && { sourceService: serviceName(first.sourceService!) }),
        },
        mechanism: 'network',
        score: severity * fit * confidenceOrUnknown(requests, true),
        summary: `network between ${from} and ${first.service}.${first.namespace}: calls are slower${g.some((a) => a.net.errorRatio > 0) ? ' or fail' : ''} on the way, not at the destination`,
        evidence: g.map(({ edge, net }) => ({
          signal: 'metric' as const,
          text: `${edge.sourceWorkload} -> ${edge.service}: the caller's sidecar measures ${ms(net.addedMs)} more than the destination's sidecars (the gap before: ${gapBefore(edge)})${net.errorRatio > 0 ? `; ${pct(net.errorRatio)} of calls fail before reaching it` : ''}`,
          figures: { addedMs: net.addedMs, networkErrorRatio: net.errorRatio, requests: net.requests, sourceMs: typicalLatency(edge.current.source) ?? 0, destinationMs: typicalLatency(edge.current.destination) ?? 0 },
          query: gapQuery(edge, Math.round(ctx.index.currentSeconds)),
        })),
      });
    }
    return out;
  },
};

function gapBefore(e: Edge): string {
  const s = typicalLatency(e.baseline.source);
  const d = typicalLatency(e.baseline.destination);
  return s != null && d != null ? ms(Math.max(0, s - d)) : 'unknown';
}

function gapQuery(e: Edge, seconds: number, pod?: string): string {
  const sel = `source_workload="${e.sourceWorkload}",destination_service="${e.host}"`;
  const mean = (reporter: string, extra = '') =>
    `sum(rate(istio_request_duration_milliseconds_sum{reporter="${reporter}",${sel}${extra}}[${seconds}s])) / sum(rate(istio_request_duration_milliseconds_count{reporter="${reporter}",${sel}${extra}}[${seconds}s]))`;
  return `(${mean('source', pod ? `,pod="${pod}"` : '')}) - (${mean('destination')})`;
}

function serviceName(host: string): string {
  const m = /^([^.]+)\.[^.]+\.svc\./.exec(host);
  return m ? m[1] : host;
}
