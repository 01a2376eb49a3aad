import type { IncomingHttpHeaders } from 'node:http';
import { isHexId, paddedTraceId } from './ids.js';

// Reading and writing the trace context in request headers, as Envoy's Zipkin tracer does under
// Istio with W3C propagation on (`USE_B3_WITH_W3C_PROPAGATION`): B3 first (the single `b3`
// header, else the `x-b3-*` headers), W3C `traceparent` as the fallback; on the way out both
// are written, consistently. `tracestate` goes on untouched: the proxy adds no vendor entry.
//
// Split in two so a request that is not sampled reads a few headers and allocates nothing:
// `sampledFlag` (what the caller decided, if anything), then, for sampled requests only,
// `parentContext` (the caller's ids).

export const SAMPLED = 1;
export const NOT_SAMPLED = 0;
/** The headers leave the decision to this proxy. */
export const UNDECIDED = -1;
export type SampledFlag = typeof SAMPLED | typeof NOT_SAMPLED | typeof UNDECIDED;

/** The caller's span, which the proxy's span continues (its parent). */
export interface ParentContext {
  /** As received, lower case: 16 or 32 hex digits (kept in that form in B3 headers). */
  traceId: string;
  spanId: string;
  /** B3 debug (`x-b3-flags: 1`, or `d` in `b3`): kept on the way out. */
  debug: boolean;
}

/** The trace headers are present but malformed: Envoy then traces nothing (a null span) and leaves them alone. */
export const MALFORMED = 'malformed' as const;

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The sampling decision the request carries. B3 wins over W3C; a B3 debug flag means sampled
 * (B3: "debug implies an accept decision"); `x-b3-sampled` is `1` (or the legacy `true`) or not.
 */
export function sampledFlag(h: IncomingHttpHeaders): SampledFlag {
  const b3 = first(h.b3);
  if (b3 !== undefined) {
    // Envoy reads the flag at a fixed position for each valid length; any other length defers.
    let pos: number;
    switch (b3.length) {
      case 1: pos = 0; break;
      case 35: case 52: pos = 34; break; // 64-bit trace id, without / with parent
      case 51: case 68: pos = 50; break; // 128-bit trace id
      default: return UNDECIDED;
    }
    const c = b3.charCodeAt(pos);
    return c === 48 /* 0 */ ? NOT_SAMPLED : c === 49 /* 1 */ || c === 100 /* d */ ? SAMPLED : UNDECIDED;
  }
  if (first(h['x-b3-flags']) === '1') return SAMPLED;
  const xs = first(h['x-b3-sampled']);
  if (xs !== undefined) return xs === '1' || xs === 'true' ? SAMPLED : NOT_SAMPLED;
  const tp = first(h.traceparent);
  if (tp !== undefined && validTraceparent(tp)) return (hexDigit(tp.charCodeAt(54)) & 1) === 1 ? SAMPLED : NOT_SAMPLED;
  return UNDECIDED;
}

/** The caller's span: null when the request starts a trace, MALFORMED when B3 headers are there but invalid. */
export function parentContext(h: IncomingHttpHeaders): ParentContext | null | typeof MALFORMED {
  const b3 = first(h.b3);
  if (b3 !== undefined) return parseB3Single(b3);
  const tid = first(h['x-b3-traceid']);
  const sid = first(h['x-b3-spanid']);
  if (tid !== undefined && sid !== undefined) {
    if (!(isHexId(tid, 32) || isHexId(tid, 16)) || !isHexId(sid, 16)) return MALFORMED;
    return { traceId: tid.toLowerCase(), spanId: sid.toLowerCase(), debug: first(h['x-b3-flags']) === '1' };
  }
  const tp = first(h.traceparent);
  // W3C: a traceparent that cannot be parsed is ignored (a new trace starts), never an error.
  if (tp !== undefined && validTraceparent(tp)) return { traceId: tp.slice(3, 35), spanId: tp.slice(36, 52), debug: false };
  return null;
}

/** `<trace>-<span>[-<flag>[-<parent>]]`, or just the flag (no context). */
function parseB3Single(b3: string): ParentContext | null | typeof MALFORMED {
  if (b3.length === 1) return b3 === '0' || b3 === '1' || b3 === 'd' ? null : MALFORMED;
  const parts = b3.split('-');
  if (parts.length < 2 || parts.length > 4) return MALFORMED;
  const [tid, sid, flag, parent] = parts;
  if (!(isHexId(tid, 32) || isHexId(tid, 16)) || !isHexId(sid, 16)) return MALFORMED;
  if (flag !== undefined && flag !== '0' && flag !== '1' && flag !== 'd') return MALFORMED;
  if (parent !== undefined && !isHexId(parent, 16)) return MALFORMED;
  return { traceId: tid.toLowerCase(), spanId: sid.toLowerCase(), debug: flag === 'd' };
}

/**
 * W3C Trace Context level 1: `00-<32 hex trace>-<16 hex parent>-<2 hex flags>`, lower case, ids
 * not all zero, version `ff` forbidden; a later version may append fields after a dash.
 */
export function validTraceparent(tp: string): boolean {
  if (tp.length < 55) return false;
  if (tp.charCodeAt(2) !== 45 || tp.charCodeAt(35) !== 45 || tp.charCodeAt(52) !== 45) return false;
  const version = tp.slice(0, 2);
  if (!lowerHex(version) || version === 'ff') return false;
  if (version === '00' ? tp.length !== 55 : tp.length > 55 && tp.charCodeAt(55) !== 45) return false;
  const trace = tp.slice(3, 35);
  const span = tp.slice(36, 52);
  return lowerHex(trace) && lowerHex(span) && lowerHex(tp.slice(53, 55)) && isHexId(trace, 32) && isHexId(span, 16);
}

/** The context the proxy's own span passes on: its ids become the parent of what the callee does. */
export interface OutgoingContext {
  /** As the caller sent it (16 or 32 digits), or a new 32-digit id. */
  traceId: string;
  spanId: string;
  parentId: string | undefined;
  debug: boolean;
}

/** Writes the sampled span's context into the request headers, B3 and W3C alike. */
export function injectContext(h: IncomingHttpHeaders, c: OutgoingContext): void {
  h['x-b3-traceid'] = c.traceId;
  h['x-b3-spanid'] = c.spanId;
  if (c.parentId !== undefined) h['x-b3-parentspanid'] = c.parentId;
  else delete h['x-b3-parentspanid'];
  h['x-b3-sampled'] = '1';
  // The single header only when the caller used it: a stale one would contradict the others.
  if (h.b3 !== undefined) h.b3 = `${c.traceId}-${c.spanId}-${c.debug ? 'd' : '1'}${c.parentId !== undefined ? `-${c.parentId}` : ''}`;
  h.traceparent = `00-${paddedTraceId(c.traceId)}-${c.spanId}-01`;
}

/** A request this proxy decided not to sample carries that decision on, so the next hops do not sample it either. */
export function markNotSampled(h: IncomingHttpHeaders): void {
  h['x-b3-sampled'] = '0';
}

function lowerHex(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

function hexDigit(c: number): number {
  return c <= 57 ? c - 48 : c - 87;
}
