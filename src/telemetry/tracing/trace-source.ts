import type { Span } from './span.js';

// What readers of traces (the API, `meshmedic trace`, diagnosis, the dashboard) see, whatever
// keeps the traces: the control plane's embedded store here, a Jaeger or Tempo query API on
// Kubernetes later. Plain JSON.

/** A span with its children, earliest first. */
export interface SpanNode extends Span {
  children: SpanNode[];
}

export interface TraceView {
  traceId: string;
  /** Earliest start and latest end over the spans. */
  startMs: number;
  durationMs: number;
  spanCount: number;
  /** `service.namespace` of every span's recorder, sorted. */
  services: string[];
  /** Some span has the error tag (no status or 5xx). */
  error: boolean;
  /** Spans whose parent is not in the trace (normally one: the root), with their subtrees. */
  roots: SpanNode[];
}

export interface TraceSummary {
  traceId: string;
  startMs: number;
  durationMs: number;
  spanCount: number;
  services: string[];
  error: boolean;
  /** The earliest span whose parent is not in the trace. */
  root: Pick<Span, 'name' | 'kind' | 'service' | 'namespace' | 'status' | 'responseFlags' | 'durationMs'>;
}

export interface TraceQuery {
  /** Canonical service that recorded a span of the trace. */
  service?: string;
  namespace?: string;
  /** Only traces with an error span. */
  errorsOnly?: boolean;
  /** Only traces that started at or after this time (epoch ms). */
  sinceMs?: number;
  /** Newest first; default 20. */
  limit?: number;
}

export interface TraceSource {
  trace(traceId: string): TraceView | undefined;
  recent(query: TraceQuery): TraceSummary[];
}
