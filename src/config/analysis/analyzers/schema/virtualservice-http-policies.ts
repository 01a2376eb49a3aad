import type { FieldPath } from '../../../../api/resource.js';
import { checkDuration, durationNanos } from './check-durations.js';
import { checkHeaderName } from './check-headers.js';
import { checkFractionalPercent } from './check-percentages.js';
import { checkStringMatch } from './check-regex.js';
import type { Findings } from './findings.js';
import { isSet, list, num, obj, str, type Obj } from './yaml-values.js';

// The per-route policies of a VirtualService HTTP route: CORS, fault injection and retries.

/** The HTTP methods Go knows; a CORS allowMethods entry must be one of them (or `*`). */
const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE']);

export function checkCorsPolicy(f: Findings, p: FieldPath, cors: Obj | undefined): void {
  if (!cors) return;
  list(cors.allowOrigins).forEach((origin, i) => {
    const o = obj(origin) ?? {};
    const value = str(o.exact) || str(o.prefix) || str(o.regex);
    if (value === '') f.error([...p, 'allowOrigins', i], 'an allowOrigins entry needs a non-empty exact, prefix or regex');
    else checkStringMatch(f, [...p, 'allowOrigins', i], o);
  });
  list(cors.allowMethods).forEach((m, i) => {
    if (!HTTP_METHODS.has(str(m)) && str(m) !== '*') f.error([...p, 'allowMethods', i], `"${str(m)}" is not a supported HTTP method`);
  });
  for (const field of ['allowHeaders', 'exposeHeaders']) {
    list(cors[field]).forEach((h, i) => {
      const name = str(h);
      if (name === '*') return;
      const err = checkHeaderName(name);
      if (err) f.error([...p, field, i], err);
    });
  }
  if (isSet(cors.maxAge)) {
    checkDuration(f, [...p, 'maxAge'], cors.maxAge);
    const ns = durationNanos(cors.maxAge);
    if (ns !== undefined && ns % 1_000_000_000n !== 0n) f.error([...p, 'maxAge'], 'maxAge is honoured only to the second; use whole seconds');
  }
}

/** gRPC status names Envoy can inject (https://github.com/grpc/grpc/blob/master/doc/statuscodes.md). */
const GRPC_STATUSES = new Set([
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE',
  'DATA_LOSS', 'UNAUTHENTICATED',
]);

export function checkHTTPStatus(f: Findings, path: FieldPath, status: number): void {
  if (status < 200 || status > 600) f.error(path, `HTTP status ${status} is not in the range 200..599`);
}

export function checkFault(f: Findings, p: FieldPath, fault: Obj | undefined): void {
  if (!fault) return;
  if (!isSet(fault.abort) && !isSet(fault.delay)) f.error(p, 'fault injection needs an abort, a delay, or both');
  const abort = obj(fault.abort);
  if (abort) {
    const ap = [...p, 'abort'];
    checkFractionalPercent(f, [...ap, 'percentage'], abort.percentage);
    if ('grpcStatus' in abort) {
      if (!GRPC_STATUSES.has(str(abort.grpcStatus))) f.error([...ap, 'grpcStatus'], `gRPC status "${str(abort.grpcStatus)}" is not a known status name (e.g. NOT_FOUND)`);
    } else if ('http2Error' in abort) {
      f.error([...ap, 'http2Error'], 'HTTP/2 abort fault injection is not supported');
    } else if ('httpStatus' in abort) {
      checkHTTPStatus(f, [...ap, 'httpStatus'], num(abort.httpStatus));
    } else {
      f.warn(ap, 'abort is configured without an error type (httpStatus or grpcStatus)');
    }
  }
  const delay = obj(fault.delay);
  if (delay) {
    const dp = [...p, 'delay'];
    checkFractionalPercent(f, [...dp, 'percentage'], delay.percentage);
    if ('fixedDelay' in delay) checkDuration(f, [...dp, 'fixedDelay'], delay.fixedDelay);
    else if ('exponentialDelay' in delay) {
      checkDuration(f, [...dp, 'exponentialDelay'], delay.exponentialDelay);
      f.error([...dp, 'exponentialDelay'], 'exponentialDelay is not supported');
    }
  }
}

/** Retry conditions Envoy understands (x-envoy-retry-on and x-envoy-retry-grpc-on). */
const RETRY_ON = new Set([
  '5xx', 'gateway-error', 'reset', 'reset-before-request', 'connect-failure', 'retriable-4xx', 'refused-stream',
  'retriable-status-codes', 'retriable-headers', 'envoy-ratelimited', 'http3-post-connect-failure',
  'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
]);

/** Status codes Go's net/http has a name for; a numeric retryOn entry must be one of these. */
const KNOWN_HTTP_STATUS = new Set([
  100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308,
  400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421, 422, 423, 424,
  425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
]);

export function checkRetries(f: Findings, p: FieldPath, retries: Obj | undefined): void {
  if (!retries) return;
  const attempts = num(retries.attempts);
  if (attempts < 0) f.error([...p, 'attempts'], 'attempts must not be negative');
  if (attempts === 0 && (isSet(retries.perTryTimeout) || str(retries.retryOn) !== '' || isSet(retries.retryRemoteLocalities))) {
    f.error(p, 'retry settings have no effect when attempts is 0 (retries disabled)');
  }
  checkDuration(f, [...p, 'perTryTimeout'], retries.perTryTimeout);
  checkDuration(f, [...p, 'backoff'], retries.backoff);
  const retryOn = str(retries.retryOn);
  if (retryOn !== '') {
    for (const policy of retryOn.split(',')) {
      const code = /^[-+]?\d+$/.test(policy) ? Number(policy) : 0;
      if (!KNOWN_HTTP_STATUS.has(code) && !RETRY_ON.has(policy)) f.error([...p, 'retryOn'], `"${policy}" is not a valid retryOn condition`);
    }
  }
}
