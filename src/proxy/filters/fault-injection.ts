import type { ProxySnapshot } from '../../api/snapshot.js';
import type { TimerHandle } from '../clock.js';
import type { CompiledSnapshot } from '../compiled-snapshot.js';
import type { HttpStream } from '../http-stream.js';
import type { ProxyContext } from '../proxy-context.js';
import { ResponseFlag, type ResponseFlagCode } from '../response-flags.js';
import { sendLocalReply } from '../router/local-reply.js';
import type { CompiledRoute } from '../routing/route-table.js';
import { continueFilterChain } from './filter-chain.js';
import { Continue, Stop, type FilterStatus, type HttpFilter, type HttpFilterFactory } from './http-filter.js';
import { durationMs } from '../../util/duration.js';

// Istio's VirtualService `fault` (Envoy's fault filter): `delay` holds the request for
// `fixedDelay` before it goes on to the router (flag DI); `abort` answers locally with
// `httpStatus`, or HTTP 200 + `grpc-status` for `grpcStatus` (flag FI, body "fault filter
// abort"). They are independent: the delay is drawn first, the abort after the delay, as Envoy
// does; both may apply (flags `DI,FI`). A missing percentage means NO request, as on Istio
// (istiod leaves Envoy's percentage unset, which is 0%; istio/istio#36303); the legacy integer
// `percent` is read when `percentage` is absent. Time and randomness come from the
// sidecar's injected clock and random source, so tests drive them.
//
// The router selects the route; this filter runs before it, so it selects the route itself,
// and only when the snapshot has a fault somewhere (the hot path without faults pays a pointer
// comparison). It leaves the route on the stream, and the router uses it rather than select again.

interface CompiledFault {
  delayMs: number; // 0: no delay
  delayPercent: number;
  /** HTTP status of the abort (200 with a gRPC status), 0: no abort. */
  abortStatus: number;
  /** gRPC status code of the abort, or -1 when it is an HTTP abort. */
  abortGrpc: number;
  abortPercent: number;
}

export const FAULT_ABORT_BODY = 'fault filter abort';
const ABORT_DETAILS = 'fault_filter_abort';
const DELAY_AND_ABORT = `${ResponseFlag.DelayInjected},${ResponseFlag.FaultInjected}` as ResponseFlagCode;

/** gRPC status codes by name, as Istio's `grpcStatus` is written. */
const GRPC_CODES: Record<string, number> = {
  OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, ABORTED: 10, OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, DATA_LOSS: 15, UNAUTHENTICATED: 16,
};

/** Compiled faults by the route's `fault` object (null: nothing that applies). */
const compiledFaults = new WeakMap<object, CompiledFault | null>();

export class FaultInjectionFilter implements HttpFilter {
  readonly name = 'fault';
  private lastConfig: CompiledSnapshot | null = null;
  private lastHasFaults = false;

  constructor(private readonly ctx: ProxyContext) {}

  onRequest(s: HttpStream): FilterStatus {
    if (s.config !== this.lastConfig) {
      this.lastConfig = s.config;
      this.lastHasFaults = hasFaults(s.config.snapshot);
    }
    if (!this.lastHasFaults) return Continue;
    // Selected once: the router uses the route found here.
    const route = s.config.routeTableFor(s.listener.def)?.select(s) ?? null;
    s.route = route;
    const fault = route ? faultOf(route) : null;
    if (!fault) return Continue;
    if (fault.delayMs > 0 && drawn(this.ctx, fault.delayPercent)) {
      this.delay(s, fault);
      return Stop;
    }
    if (fault.abortStatus > 0 && drawn(this.ctx, fault.abortPercent)) {
      abort(s, fault, ResponseFlag.FaultInjected);
      return Stop;
    }
    return Continue;
  }

  private delay(s: HttpStream, fault: CompiledFault): void {
    s.responseFlag = ResponseFlag.DelayInjected;
    this.ctx.stats.inc('fault.delays_injected');
    let timer: TimerHandle = undefined;
    // The client may leave during the delay (the listener records `DI,DC`): nothing more to do.
    const onClose = () => this.ctx.clock.clearTimeout(timer);
    s.res.once('close', onClose);
    timer = this.ctx.clock.setTimeout(() => {
      s.res.off('close', onClose);
      if (s.completed || s.res.destroyed) return;
      if (fault.abortStatus > 0 && drawn(this.ctx, fault.abortPercent)) abort(s, fault, DELAY_AND_ABORT);
      else continueFilterChain(s);
    }, fault.delayMs);
  }
}

export const faultInjectionFilter: HttpFilterFactory = (_listener, ctx) => new FaultInjectionFilter(ctx);

function abort(s: HttpStream, fault: CompiledFault, flag: ResponseFlagCode): void {
  s.listener.ctx.stats.inc('fault.aborts_injected');
  if (fault.abortGrpc < 0) {
    // A gRPC request gets the gRPC mapping of the HTTP status from the local reply, as in Envoy.
    sendLocalReply(s, { status: fault.abortStatus, flag, details: ABORT_DETAILS, body: FAULT_ABORT_BODY });
    return;
  }
  const ct = s.headers['content-type'];
  if (ct === undefined || !ct.startsWith('application/grpc')) {
    sendLocalReply(s, { status: 200, flag, details: ABORT_DETAILS, body: FAULT_ABORT_BODY });
    return;
  }
  const grpc = ['content-type', 'application/grpc', 'grpc-status', String(fault.abortGrpc), 'grpc-message', encodeURIComponent(FAULT_ABORT_BODY)];
  sendLocalReply(s, { status: 200, flag, details: ABORT_DETAILS, body: '' }, grpc);
}

/** True with probability `percent`/100 (100: always, 0: never). */
function drawn(ctx: ProxyContext, percent: number): boolean {
  return percent >= 100 || (percent > 0 && ctx.random() * 100 < percent);
}

function hasFaults(snapshot: ProxySnapshot): boolean {
  for (const rc of snapshot.routes) {
    for (const vh of rc.virtualHosts) {
      for (const r of vh.routes) if (r.action.kind === 'route' && r.action.fault != null) return true;
    }
  }
  return false;
}

function faultOf(route: CompiledRoute): CompiledFault | null {
  const action = route.def.action;
  if (action.kind !== 'route' || action.fault == null || typeof action.fault !== 'object') return null;
  const key = action.fault as object;
  let compiled = compiledFaults.get(key);
  if (compiled === undefined) {
    compiled = compileFault(key as Record<string, any>);
    compiledFaults.set(key, compiled);
  }
  return compiled;
}

function compileFault(fault: Record<string, any>): CompiledFault | null {
  const out: CompiledFault = { delayMs: 0, delayPercent: 0, abortStatus: 0, abortGrpc: -1, abortPercent: 0 };
  const delay = fault.delay;
  if (delay && typeof delay === 'object') {
    out.delayMs = durationMs(delay.fixedDelay) ?? 0;
    out.delayPercent = percentOf(delay);
  }
  const ab = fault.abort;
  if (ab && typeof ab === 'object') {
    const http = Number(ab.httpStatus);
    const grpc = grpcCode(ab.grpcStatus);
    if (Number.isInteger(http) && http >= 200 && http < 600) out.abortStatus = http;
    else if (grpc >= 0) {
      out.abortStatus = 200; // Envoy: a gRPC abort is HTTP 200 carrying the gRPC status
      out.abortGrpc = grpc;
    }
    out.abortPercent = percentOf(ab);
  }
  return out.delayMs > 0 || out.abortStatus > 0 ? out : null;
}

/** `percentage.value` (0..100), else the legacy integer `percent`, else 0 (Istio: unset never fires). */
function percentOf(f: Record<string, any>): number {
  const v = f.percentage != null ? Number(f.percentage.value ?? 0) : f.percent != null ? Number(f.percent) : 0;
  return Number.isFinite(v) ? Math.min(100, Math.max(0, v)) : 0;
}

function grpcCode(v: unknown): number {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= 16 ? v : -1;
  if (typeof v !== 'string' || v === '') return -1;
  const n = Number(v);
  if (Number.isInteger(n) && n >= 0 && n <= 16) return n;
  return GRPC_CODES[v.toUpperCase()] ?? -1;
}
