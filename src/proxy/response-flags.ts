// Envoy's response flags: the evidence for every outcome the proxy makes itself (DESIGN.md,
// invariant 3). One place defines them so the router, later filters (resilience, authz) and
// telemetry speak the same words. `details` mirrors Envoy's response code details.

export const ResponseFlag = {
  None: '-',
  NoRouteFound: 'NR',
  NoClusterFound: 'NC',
  NoHealthyUpstream: 'UH',
  UpstreamConnectionFailure: 'UF',
  UpstreamConnectionTermination: 'UC',
  UpstreamRemoteReset: 'UR',
  UpstreamOverflow: 'UO',
  UpstreamRequestTimeout: 'UT',
  UpstreamRetryLimitExceeded: 'URX',
  DownstreamConnectionTermination: 'DC',
  LocalReset: 'LR',
  DelayInjected: 'DI',
  FaultInjected: 'FI',
  RateLimited: 'RL',
  UnauthorizedExternalService: 'UAEX',
} as const;

export type ResponseFlagCode = (typeof ResponseFlag)[keyof typeof ResponseFlag];

/** Envoy's order of flags in a combined value (its CoreResponseFlag enum): `UT,DI`, `DI,FI`, `UF,URX`. */
const FLAG_ORDER = ['LH', 'UH', 'UT', 'LR', 'UR', 'UF', 'UC', 'UO', 'NR', 'DI', 'FI', 'RL', 'UAEX', 'RLSE', 'DC', 'URX', 'SI', 'IH', 'DPE', 'UMSDR', 'RFCF', 'NFCF', 'DT', 'UPE', 'NC', 'OM', 'DF', 'DO', 'DR'];

/** `current` with `flag` added, in Envoy's order (`-` is no flag). Only runs when a second flag joins: off the common path. */
export function withFlag(current: string, flag: string): string {
  if (current === ResponseFlag.None || current === '') return flag;
  const flags = current.split(',');
  if (flags.includes(flag)) return current;
  flags.push(flag);
  return flags.sort((a, b) => FLAG_ORDER.indexOf(a) - FLAG_ORDER.indexOf(b)).join(',');
}

/** Response header carrying the flag of a locally made reply. */
export const FLAGS_HEADER = 'x-meshmedic-flags';
export const SERVER_NAME = 'meshmedic';

/** The client went away before its response ended: DC joins the stream's flag (`DI,DC`), details say so. */
export function markDownstreamClosed(s: { responseFlag: string; details: string }): void {
  s.responseFlag = withFlag(s.responseFlag, ResponseFlag.DownstreamConnectionTermination);
  s.details = Details.downstreamDisconnect;
}

/** A reply the proxy makes itself: status, flag, Envoy-style details and body. */
export interface LocalReplySpec {
  status: number;
  flag: ResponseFlagCode;
  details: string;
  body: string;
}

const resetBody = (reason: string) => `upstream connect error or disconnect/reset before headers. reset reason: ${reason}`;

export const LocalReplies = {
  noRoute: { status: 404, flag: 'NR', details: 'route_not_found', body: '' },
  noCluster: { status: 503, flag: 'NC', details: 'cluster_not_found', body: '' },
  noHealthyUpstream: { status: 503, flag: 'UH', details: 'no_healthy_upstream', body: 'no healthy upstream' },
  connectFailure: {
    status: 503,
    flag: 'UF',
    details: 'upstream_reset_before_response_started{connection_failure}',
    body: resetBody('connection failure'),
  },
  connectionTermination: {
    status: 503,
    flag: 'UC',
    details: 'upstream_reset_before_response_started{connection_termination}',
    body: resetBody('connection termination'),
  },
  /** The route timeout fired before the upstream's response headers (Envoy: 504 UT, `response_timeout`). */
  upstreamTimeout: { status: 504, flag: 'UT', details: 'response_timeout', body: 'upstream request timeout' },
  /** A connectionPool limit refused the request (Envoy's circuit breakers; sent with x-envoy-overloaded). */
  overflow: {
    status: 503,
    flag: 'UO',
    details: 'upstream_reset_before_response_started{overflow}',
    body: resetBody('overflow'),
  },
  /** An HTTP/2 upstream reset the stream (RST_STREAM) before the response headers. */
  remoteReset: {
    status: 503,
    flag: 'UR',
    details: 'upstream_reset_before_response_started{remote_reset}',
    body: resetBody('remote reset'),
  },
  /** An HTTP/2 upstream refused the stream (REFUSED_STREAM): retriable by `refused-stream`. */
  refusedStream: {
    status: 503,
    flag: 'UR',
    details: 'upstream_reset_before_response_started{remote_refused_stream_reset}',
    body: resetBody('remote refused stream reset'),
  },
} satisfies Record<string, LocalReplySpec>;

/** Details for outcomes that are not a local reply. */
export const Details = {
  proxied: 'via_upstream',
  directResponse: 'direct_response',
  redirect: 'redirect',
  /** An HTTP/2 stream reset after the response started (flag UR). */
  resetAfterResponseStarted: 'upstream_reset_after_response_started{remote_reset}',
  /** An HTTP/1.1 upstream connection closed or reset after the response started (flag UC). */
  terminatedAfterResponseStarted: 'upstream_reset_after_response_started{connection_termination}',
  downstreamDisconnect: 'downstream_remote_disconnect',
  /** The route timeout fired after the response started: the downstream stream is reset. */
  responseTimeout: 'response_timeout',
  /** A try's per-try timeout (VirtualService `retries.perTryTimeout`) fired with no retry left. */
  perTryTimeout: 'upstream_per_try_timeout',
} as const;
