import type { Listener } from '../../api/snapshot.js';
import type { HttpStream } from '../http-stream.js';
import type { ProxyContext } from '../proxy-context.js';

// An HTTP filter, as in Envoy's filter chain: each request passes the filters of its listener
// in order, the router last. A filter that answers itself (fault abort, authz deny) or that
// must wait (fault delay) returns Stop; one that waited resumes the chain with
// `continueFilterChain(stream)`. Resilience, telemetry and authorization are one file each.

export const Continue = 0;
export const Stop = 1;
export type FilterStatus = typeof Continue | typeof Stop;

export interface HttpFilter {
  readonly name: string;
  onRequest(s: HttpStream): FilterStatus;
  /** Response headers (flat `[name, value, ...]`) about to go downstream, proxied or local; edit in place. */
  onResponseHeaders?(s: HttpStream, headers: string[]): void;
  /** The stream is over (response sent, or reset): status, flag and details are final. */
  onComplete?(s: HttpStream): void;
}

/** Builds a filter for a listener (or returns null when the filter does not apply there). */
export type HttpFilterFactory = (listener: Listener, ctx: ProxyContext) => HttpFilter | null;
