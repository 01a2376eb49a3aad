import type { Span } from './span.js';
import type { SpanNode, TraceSummary, TraceView } from './trace-source.js';

// A trace's spans as a tree: a span hangs below the span named by its parentId; spans whose
// parent never arrived (the caller was outside the mesh, or its span was dropped) are roots.
// Siblings are ordered by start time, so the tree reads in the order things happened.

export function traceView(traceId: string, spans: readonly Span[]): TraceView {
  const nodes = new Map<string, SpanNode>();
  for (const s of spans) nodes.set(s.spanId, { ...s, children: [] });
  const roots: SpanNode[] = [];
  for (const n of nodes.values()) {
    const parent = n.parentId !== undefined && n.parentId !== n.spanId ? nodes.get(n.parentId) : undefined;
    if (parent) parent.children.push(n);
    else roots.push(n);
  }
  breakCycles(nodes, roots);
  const byStart = (a: SpanNode, b: SpanNode) => a.startMs - b.startMs || kindOrder(a) - kindOrder(b);
  for (const n of nodes.values()) n.children.sort(byStart);
  roots.sort(byStart);
  const { startMs, durationMs, services, error } = extent(spans);
  return { traceId, startMs, durationMs, spanCount: spans.length, services, error, roots };
}

export function traceSummary(traceId: string, spans: readonly Span[]): TraceSummary {
  const ids = new Set<string>();
  for (const s of spans) ids.add(s.spanId);
  let root: Span | undefined;
  for (const s of spans) {
    if (s.parentId !== undefined && ids.has(s.parentId)) continue;
    if (root === undefined || s.startMs < root.startMs) root = s;
  }
  root ??= spans[0];
  const { startMs, durationMs, services, error } = extent(spans);
  return {
    traceId,
    startMs,
    durationMs,
    spanCount: spans.length,
    services,
    error,
    root: { name: root.name, kind: root.kind, service: root.service, namespace: root.namespace, status: root.status, responseFlags: root.responseFlags, durationMs: root.durationMs },
  };
}

/** Spans flattened depth-first, each with its depth: the order a tree view prints them in. */
export function flattenTree(roots: readonly SpanNode[]): Array<{ depth: number; node: SpanNode }> {
  const out: Array<{ depth: number; node: SpanNode }> = [];
  const walk = (n: SpanNode, depth: number) => {
    out.push({ depth, node: n });
    for (const c of n.children) walk(c, depth + 1);
  };
  for (const r of roots) walk(r, 0);
  return out;
}

function extent(spans: readonly Span[]): { startMs: number; durationMs: number; services: string[]; error: boolean } {
  let start = Infinity;
  let end = -Infinity;
  let error = false;
  const services = new Set<string>();
  for (const s of spans) {
    start = Math.min(start, s.startMs);
    end = Math.max(end, s.startMs + s.durationMs);
    if (s.error) error = true;
    services.add(`${s.service}.${s.namespace}`);
  }
  if (spans.length === 0) return { startMs: 0, durationMs: 0, services: [], error: false };
  return { startMs: start, durationMs: end - start, services: [...services].sort(), error };
}

/**
 * Spans that parent each other in a loop (bad input: ids come from the network) are reachable
 * from no root; each such loop is cut at one span, which becomes a root, so every span shows.
 */
function breakCycles(nodes: Map<string, SpanNode>, roots: SpanNode[]): void {
  const seen = new Set<SpanNode>();
  const mark = (start: SpanNode) => {
    const stack = [start];
    while (stack.length) {
      const n = stack.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      for (const c of n.children) stack.push(c);
    }
  };
  for (const r of roots) mark(r);
  if (seen.size === nodes.size) return;
  for (const n of nodes.values()) {
    if (seen.has(n)) continue;
    const parent = nodes.get(n.parentId!)!;
    parent.children.splice(parent.children.indexOf(n), 1);
    roots.push(n);
    mark(n);
  }
}

/** A CLIENT span before the SERVER span it called when both start in the same millisecond. */
function kindOrder(n: SpanNode): number {
  return n.kind === 'CLIENT' ? 0 : 1;
}
