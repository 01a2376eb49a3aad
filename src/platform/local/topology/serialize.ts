import { stringify } from 'yaml';
import type { Call, Latency, Step, Topology, TopologyService } from './model.js';
import { formatDuration } from './units.js';

// Writes a topology back as a file in the explicit form (every service with its ports and
// versions, no `defaults`), which parses back to the same topology. Used by the generator.

export function topologyToYaml(t: Topology): string {
  const doc = { apiVersion: 'v1alpha1', kind: 'MockServiceGraph', services: t.services.map(serviceToObject) };
  return stringify(doc, { lineWidth: 0 });
}

function serviceToObject(s: TopologyService): Record<string, unknown> {
  const out: Record<string, unknown> = { name: s.name, namespace: s.namespace, serviceAccount: s.serviceAccount };
  if (s.isEntrypoint) out.isEntrypoint = true;
  out.ports = s.ports.map((p) => ({ name: p.name, port: p.port, ...(p.targetPort !== p.port ? { targetPort: p.targetPort } : {}), protocol: p.protocol }));
  out.versions = s.versions.map((v) => {
    const b = v.behaviour;
    const o: Record<string, unknown> = { name: v.name, replicas: v.replicas };
    if (Object.keys(v.labels).length) o.labels = { ...v.labels };
    if (b.errorRate) o.errorRate = b.errorRate;
    if (b.responseSize) o.responseSize = b.responseSize;
    if (b.latency) o.latency = latencyToValue(b.latency);
    if (b.script.length) o.script = b.script.map((st) => stepToValue(st, s.namespace));
    return o;
  });
  return out;
}

function stepToValue(s: Step, callerNamespace: string): unknown {
  switch (s.kind) {
    case 'sleep':
      return { sleep: latencyToValue(s.latency) };
    case 'call':
      return { call: callToObject(s.call, callerNamespace) };
    case 'concurrent':
      return s.steps.map((x) => stepToValue(x, callerNamespace));
  }
}

function callToObject(c: Call, callerNamespace: string): Record<string, unknown> {
  const o: Record<string, unknown> = { service: c.namespace === callerNamespace ? c.service : `${c.service}.${c.namespace}`, port: c.port };
  if (c.hostname) o.hostname = c.hostname;
  if (c.path !== '/') o.path = c.path;
  if (c.size) o.size = c.size;
  if (c.method !== (c.size > 0 ? 'POST' : 'GET')) o.method = c.method;
  if (c.probability !== 1) o.probability = c.probability;
  if (c.timeoutMs !== undefined) o.timeout = formatDuration(c.timeoutMs);
  if (c.attempts !== 1) o.attempts = c.attempts;
  if (c.onError !== 'propagate') o.onError = c.onError;
  if (c.fallback !== undefined) o.fallback = c.fallback;
  return o;
}

export function latencyToValue(l: Latency): unknown {
  const d = formatDuration;
  const cap = 'capMs' in l && l.capMs !== undefined ? { max: d(l.capMs) } : {};
  switch (l.distribution) {
    case 'fixed':
      return d(l.ms);
    case 'uniform':
      return { distribution: 'uniform', min: d(l.minMs), max: d(l.maxMs) };
    case 'normal':
      return { distribution: 'normal', mean: d(l.meanMs), stddev: d(l.stddevMs), ...cap };
    case 'exponential':
      return { distribution: 'exponential', mean: d(l.meanMs), ...cap };
    case 'lognormal':
      return { distribution: 'lognormal', median: d(l.medianMs), sigma: l.sigma, ...cap };
  }
}
