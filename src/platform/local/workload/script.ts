import { setTimeout as sleep } from 'node:timers/promises';
import { succeeded, type CallOutcome, type Outbound } from './outbound.js';
import { sampleLatency, type Rng } from './random.js';
import type { SpecCall, SpecCommand, SpecStep } from './spec.js';

// Runs a script for one request: steps in order, a concurrent group all at once (the script
// waits for every member, as isotope does). A failed call either fails the request
// (onError: propagate, isotope's behaviour: the rest of the script does not run) or is
// replaced by its fallback and the script goes on (onError: fallback).

export interface CallRecord {
  service: string;
  authority: string;
  status: number;
  grpcStatus?: string;
  body?: unknown;
  error?: string;
  timedOut?: boolean;
  attempts?: number; // present when more than one was made
  fallback?: string; // present when the call failed and the caller degraded
}

export interface ScriptContext {
  rng: Rng;
  outbound: Outbound;
  /** Headers of the incoming request that every outgoing call carries (trace context, user). */
  forwardHeaders: Record<string, string>;
  from: string; // the calling instance, for TCP requests
}

export interface ScriptResult {
  calls: CallRecord[];
  /** The call that failed the request, when one with onError: propagate failed. */
  failed?: CallRecord;
}

export async function runScript(steps: readonly SpecStep[], ctx: ScriptContext): Promise<ScriptResult> {
  const calls: CallRecord[] = [];
  for (const step of steps) {
    const records = step.kind === 'concurrent' ? await Promise.all(step.steps.map((s) => runCommand(s, ctx))) : [await runCommand(step, ctx)];
    let failed: CallRecord | undefined;
    for (const r of records) {
      if (!r) continue;
      calls.push(r.record);
      if (r.propagate) failed ??= r.record;
    }
    if (failed) return { calls, failed };
  }
  return { calls };
}

async function runCommand(cmd: SpecCommand, ctx: ScriptContext): Promise<{ record: CallRecord; propagate: boolean } | undefined> {
  if (cmd.kind === 'sleep') {
    const ms = sampleLatency(cmd.latency, ctx.rng);
    if (ms > 0) await sleep(ms);
    return undefined;
  }
  const c = cmd.call;
  // Drawn even when probability is 1 would be wasteful; 0 must never call.
  if (c.probability < 1 && !(ctx.rng() < c.probability)) return undefined;
  const { outcome, attempts } = await callWithAttempts(c, ctx);
  const record: CallRecord = { service: c.service, authority: c.authority, status: outcome.status };
  if (outcome.grpcStatus !== undefined) record.grpcStatus = outcome.grpcStatus;
  if (outcome.body !== undefined) record.body = outcome.body;
  if (attempts > 1) record.attempts = attempts;
  if (succeeded(outcome)) return { record, propagate: false };
  record.error = outcome.error ?? `status ${outcome.status}`;
  if (outcome.timedOut) record.timedOut = true;
  if (c.onError === 'fallback') {
    record.fallback = c.fallback ?? `${c.service} is unavailable`;
    return { record, propagate: false };
  }
  return { record, propagate: true };
}

async function callWithAttempts(c: SpecCall, ctx: ScriptContext): Promise<{ outcome: CallOutcome; attempts: number }> {
  let outcome: CallOutcome = { status: 0 };
  for (let attempt = 1; attempt <= c.attempts; attempt++) {
    outcome = await ctx.outbound.call(c, ctx.forwardHeaders, ctx.from);
    if (succeeded(outcome)) return { outcome, attempts: attempt };
  }
  return { outcome, attempts: c.attempts };
}
