import { describeTarget, type RankedCause } from '../../diagnosis/model.js';
import type { ActionDefinition } from './action.js';
import { applyChange, freeName, namesService, newResource, placed, virtualServicesOf, yamlOf, type ServiceRef } from './istio.js';

// A slow dependency: bound how long callers wait for it and let them retry elsewhere. Every
// HTTP route to the service gets a per-try timeout (4x its baseline mean latency, at least
// 250 ms), 2 retries on reset/connect-failure/5xx, and an overall timeout covering them; a
// route that already has a tighter timeout or more retries keeps its own. A retry lands on
// another instance (the sidecar's retry host predicate), so one slow instance stops hurting.

type Raw = Record<string, any>;

const MIN_TRY_MS = 250;

function perTryMs(cause: RankedCause): number {
  let base: number | undefined;
  for (const e of cause.evidence) {
    const b = e.figures.baselineMeanMs ?? e.figures.baselineMs;
    if (typeof b === 'number' && b > 0) base = Math.max(base ?? 0, b);
  }
  return Math.max(MIN_TRY_MS, Math.ceil(((base ?? 250) * 4) / 50) * 50);
}

const seconds = (ms: number) => `${ms / 1000}s`;

function durationMs(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(v);
  return m ? Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000) : undefined;
}

export const timeoutRetry: ActionDefinition = {
  kind: 'timeout-retry',
  treats: [
    { kind: 'service', mechanisms: ['latency', 'timeout', 'hang'] },
    { kind: 'version', mechanisms: ['latency', 'timeout', 'hang'] },
    { kind: 'edge', mechanisms: ['latency', 'network', 'timeout'] },
    { kind: 'instance', mechanisms: ['latency', 'hang'] },
  ],
  plan(cause, causeRank, ctx) {
    const t = cause.target;
    if (!t.service) return { skip: `${describeTarget(t)}: no service to put a timeout around` };
    const s: ServiceRef = { namespace: t.namespace, service: t.service };
    const tryMs = perTryMs(cause);
    const policy = { timeout: seconds(tryMs * 3), retries: { attempts: 2, perTryTimeout: seconds(tryMs), retryOn: 'connect-failure,refused-stream,reset,5xx' } };
    const vss = virtualServicesOf(ctx, s);
    const changes = [];
    if (vss.length === 0) {
      changes.push(applyChange(newResource('VirtualService', s, freeName(ctx.resources('VirtualService'), s, 'recovery'), { hosts: [t.service], http: [{ route: [{ destination: { host: t.service } }], ...policy }] }), undefined));
    } else {
      for (const vs of vss) {
        const raw = placed(vs);
        let changed = false;
        for (const http of (raw.spec.http ?? []) as Raw[]) {
          if (!((http.route ?? []) as Raw[]).some((d) => namesService(d?.destination?.host, raw.metadata.namespace, s))) continue;
          const own = durationMs(http.timeout);
          if (own === undefined || own > tryMs * 3) (http.timeout = policy.timeout), (changed = true);
          if (!http.retries || (Number(http.retries.attempts ?? 0) < 2 && !http.retries.perTryTimeout)) (http.retries = { ...policy.retries }), (changed = true);
        }
        if (changed) changes.push(applyChange(raw, vs));
      }
      if (changes.length === 0) return { skip: `${t.service}.${t.namespace}'s routes already have tighter timeouts and retries` };
    }
    return {
      kind: 'timeout-retry',
      cause: t,
      causeRank,
      summary: `bound calls to ${t.service}.${t.namespace}: ${seconds(tryMs)} per try, 2 retries on another instance, ${policy.timeout} overall`,
      expectedEffect: `callers of ${t.service} wait at most ${policy.timeout}; a slow or failing instance is retried around, so their latency and errors return within the SLO`,
      blastRadius: { text: `every caller of ${t.service}.${t.namespace}: requests slower than ${policy.timeout} now fail fast instead of waiting` },
      config: changes,
      platform: [],
      yaml: yamlOf(changes),
    };
  },
};
