// Kiali's default request-health tolerances (kiali/kiali config.AddHealthDefault, documented at
// kiali.io/docs/configuration/health): for each protocol, which response codes count as errors,
// and the error percentage at which a node or edge becomes Degraded or Failure.
//
// `degraded: 0` means "any error at all" (Kiali's applyThresholds: a ratio above zero that is
// not a failure is degraded when the degraded threshold is 0); `failure: 0` would mean "never".

export interface Tolerance {
  /** What the tolerance is called in explanations (`5xx`, `gRPC non-OK`, ...). */
  name: string;
  /** Response codes as Kiali keys them (see responseCodeKey): HTTP status, gRPC status, or `-`. */
  code: RegExp;
  protocol: RegExp;
  /** Percent. */
  degraded: number;
  /** Percent; 0: never a failure. */
  failure: number;
}

export const KIALI_DEFAULT_TOLERANCES: readonly Tolerance[] = [
  { name: '5xx', code: /^5\d\d$/, protocol: /^http$/, degraded: 0, failure: 10 },
  { name: '4xx', code: /^4\d\d$/, protocol: /^http$/, degraded: 10, failure: 20 },
  { name: 'gRPC non-OK', code: /^[1-9]$|^1[0-6]$/, protocol: /^grpc$/, degraded: 0, failure: 10 },
  // Istio reports response_code 0 when the client got no response at all (reset, client gone).
  { name: 'no response', code: /^-$/, protocol: /^(http|grpc)$/, degraded: 0, failure: 10 },
];

/**
 * The code a response counts under, as Kiali's HandleResponseCode decides it: `-` when there was
 * no response (response_code 0); the HTTP status for HTTP, and for gRPC when the HTTP exchange
 * itself failed (>= 400) or no gRPC status was reported; otherwise the gRPC status.
 */
export function responseCodeKey(protocol: string, responseCode: string, grpcStatus: string | undefined): string {
  if (responseCode === '0') return '-';
  if (protocol !== 'grpc' || isHttpError(responseCode) || !grpcStatus) return responseCode;
  return grpcStatus;
}

function isHttpError(code: string): boolean {
  const n = Number(code);
  return code !== '' && Number.isInteger(n) && n >= 400;
}
