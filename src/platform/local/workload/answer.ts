import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkloadFaults } from './faults.js';
import type { Outbound } from './outbound.js';
import { sampleLatency, type Rng } from './random.js';
import { runScript, type CallRecord } from './script.js';
import type { WorkloadSpec } from './spec.js';

// What an instance answers to one request, whatever the transport: its processing time, its
// own error rate, then its script. The body names the instance that answered and carries the
// answers of the calls it made, so a Bookinfo productpage answer shows the whole page.

/**
 * Headers an application must copy from its request to its calls for traces to join up (Istio's
 * list: the request id, W3C, B3 single and multi, Lightstep, OpenCensus/Stackdriver), plus
 * Bookinfo's user headers.
 */
export const FORWARDED_HEADERS = [
  'x-request-id',
  'traceparent',
  'tracestate',
  'b3',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
  'x-ot-span-context',
  'x-cloud-trace-context',
  'grpc-trace-bin',
  'end-user',
  'user-agent',
  'cookie',
  'authorization',
];

export type Outcome = 'ok' | 'error' | 'dependency';

export interface Answer {
  outcome: Outcome;
  /** HTTP status instead of the outcome's usual one (an injected error status). */
  status?: number;
  body: {
    service: string;
    version: string;
    instance: string;
    namespace: string;
    calls: CallRecord[];
    error?: string;
    failedCall?: string;
    padding?: string;
  };
}

export interface AnswerContext {
  spec: WorkloadSpec;
  rng: Rng;
  outbound: Outbound;
  padding: string;
  /** Chaos faults in force (latency, error status); absent in tests that start a bare workload. */
  faults?: WorkloadFaults;
}

export async function answer(ctx: AnswerContext, incoming: Record<string, string | string[] | undefined>): Promise<Answer> {
  const { spec, rng } = ctx;
  const body: Answer['body'] = { service: spec.service, version: spec.version, instance: spec.instance, namespace: spec.namespace, calls: [] };
  if (ctx.padding) body.padding = ctx.padding;
  if (spec.latency) {
    const ms = sampleLatency(spec.latency, rng);
    if (ms > 0) await sleep(ms);
  }
  const faults = ctx.faults;
  if (faults?.active) {
    const ms = faults.delayMs();
    if (ms > 0) await sleep(ms);
    const status = faults.errorStatus();
    if (status) {
      body.error = `injected failure (chaos, status ${status})`;
      return { outcome: 'error', status, body };
    }
  }
  // isotope decides the simulated failure before running the script: a failing instance calls no one.
  if (spec.errorRate > 0 && rng() < spec.errorRate) {
    body.error = 'simulated failure (errorRate)';
    return { outcome: 'error', body };
  }
  const forwardHeaders: Record<string, string> = {};
  for (const h of FORWARDED_HEADERS) {
    const v = incoming[h];
    if (typeof v === 'string') forwardHeaders[h] = v;
    else if (Array.isArray(v)) forwardHeaders[h] = v.join(', ');
  }
  const result = await runScript(spec.script, { rng, outbound: ctx.outbound, forwardHeaders, from: `${spec.instance}.${spec.namespace}` });
  body.calls = result.calls;
  if (result.failed) {
    body.error = `call to ${result.failed.service} failed: ${result.failed.error}`;
    body.failedCall = result.failed.service;
    return { outcome: 'dependency', body };
  }
  return { outcome: 'ok', body };
}
