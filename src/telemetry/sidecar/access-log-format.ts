// The access log line of one request, in Istio's default formats: the text format of
// EnvoyTextLogFormat (istiod, pilot/pkg/model/telemetry_logging.go) and the JSON format of
// EnvoyJSONLogFormatIstio (same fields, by name). What the local mesh does not have (TLS server
// names, upstream local addresses, x-envoy-upstream-service-time, connection termination details,
// transport failure reasons) prints as Envoy prints a missing value: `-` in text, null in JSON.

export interface AccessLogEntry {
  startMs: number;
  method: string;
  /** Path as the client sent it (before any rewrite, Envoy's X-ENVOY-ORIGINAL-PATH?:PATH). */
  path: string;
  protocol: 'HTTP/1.1' | 'HTTP/2';
  responseCode: number;
  responseFlags: string;
  responseCodeDetails: string;
  bytesReceived: number;
  bytesSent: number;
  durationMs: number;
  xForwardedFor: string | undefined;
  userAgent: string | undefined;
  requestId: string | undefined;
  authority: string;
  upstreamHost: string | undefined;
  upstreamCluster: string | undefined;
  downstreamLocalAddress: string | undefined;
  downstreamRemoteAddress: string | undefined;
  routeName: string | undefined;
}

const dash = (v: string | undefined) => (v === undefined || v === '' ? '-' : v);

/** One line of Istio's default text format (with its newline). */
export function textLine(e: AccessLogEntry): string {
  return (
    `[${new Date(e.startMs).toISOString()}] "${e.method} ${dash(e.path)} ${e.protocol}" ${e.responseCode} ${e.responseFlags} ` +
    `${dash(e.responseCodeDetails)} - "-" ${e.bytesReceived} ${e.bytesSent} ${Math.floor(e.durationMs)} - ` +
    `"${dash(e.xForwardedFor)}" "${dash(e.userAgent)}" "${dash(e.requestId)}" "${dash(e.authority)}" "${dash(e.upstreamHost)}" ` +
    `${dash(e.upstreamCluster)} - ${dash(e.downstreamLocalAddress)} ${dash(e.downstreamRemoteAddress)} - ${dash(e.routeName)}\n`
  );
}

const orNull = (v: string | undefined) => (v === undefined || v === '' ? null : v);

/** One line of Istio's default JSON format (EnvoyJSONLogFormatIstio's keys), with its newline. */
export function jsonLine(e: AccessLogEntry): string {
  return (
    JSON.stringify({
      start_time: new Date(e.startMs).toISOString(),
      method: e.method,
      path: orNull(e.path),
      protocol: e.protocol,
      response_code: e.responseCode,
      response_flags: e.responseFlags,
      response_code_details: orNull(e.responseCodeDetails),
      connection_termination_details: null,
      upstream_transport_failure_reason: null,
      bytes_received: e.bytesReceived,
      bytes_sent: e.bytesSent,
      duration: Math.floor(e.durationMs),
      upstream_service_time: null,
      x_forwarded_for: orNull(e.xForwardedFor),
      user_agent: orNull(e.userAgent),
      request_id: orNull(e.requestId),
      authority: orNull(e.authority),
      upstream_host: orNull(e.upstreamHost),
      upstream_cluster: orNull(e.upstreamCluster),
      upstream_local_address: null,
      downstream_local_address: orNull(e.downstreamLocalAddress),
      downstream_remote_address: orNull(e.downstreamRemoteAddress),
      requested_server_name: null,
      route_name: orNull(e.routeName),
    }) + '\n'
  );
}
