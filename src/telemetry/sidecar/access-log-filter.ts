import type { HttpStream } from '../../proxy/http-stream.js';
import type { ProxyContext } from '../../proxy/proxy-context.js';
import { Continue, type FilterStatus, type HttpFilter, type HttpFilterFactory } from '../../proxy/filters/http-filter.js';
import type { AccessLogEntry } from './access-log-format.js';
import type { AccessLogWriter } from './access-log-writer.js';
import { streamBytes } from './byte-meter.js';
import { accessLogFormat } from './settings.js';
import { telemetryOf } from './sidecar-telemetry.js';

// Envoy's access log on a sidecar's HTTP listeners (inbound and outbound, as Istio configures
// it): one entry per completed stream, local replies included, with Envoy's fields. Present only
// on listeners where the Telemetry settings turn access logging on: otherwise it costs nothing.

class AccessLogFilter implements HttpFilter {
  readonly name = 'envoy.access_loggers.file';

  constructor(
    private readonly ctx: ProxyContext,
    private readonly writer: AccessLogWriter,
    private readonly format: 'text' | 'json',
  ) {}

  onRequest(_s: HttpStream): FilterStatus {
    return Continue;
  }

  onComplete(s: HttpStream): void {
    const h = s.headers;
    const socket = s.req.socket;
    const entry: AccessLogEntry = {
      startMs: s.startMs,
      method: s.method,
      path: s.path,
      protocol: s.h2 ? 'HTTP/2' : 'HTTP/1.1',
      responseCode: s.status,
      responseFlags: s.responseFlag,
      responseCodeDetails: s.details,
      ...bodyBytes(s),
      durationMs: this.ctx.clock.now() - s.startMs,
      xForwardedFor: first(h['x-forwarded-for']),
      userAgent: first(h['user-agent']),
      requestId: first(h['x-request-id']),
      authority: s.authority,
      upstreamHost: s.upstreamHost ? hostAddress(s.upstreamHost.key) : undefined,
      upstreamCluster: s.cluster?.def.name,
      downstreamLocalAddress: socket?.localAddress ? `${socket.localAddress}:${socket.localPort}` : undefined,
      downstreamRemoteAddress: socket?.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : undefined,
      routeName: s.route?.name,
    };
    this.writer.add(entry, this.format);
  }
}

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/** A unix socket endpoint prints its path, as Envoy prints pipe addresses. */
const hostAddress = (key: string) => (key.startsWith('unix:') ? key.slice(5) : key);

/**
 * Envoy's BYTES_RECEIVED and BYTES_SENT count bodies. The request's is its content-length; the
 * response's its content-length, else (a local reply, a chunked body) what the connection wrote
 * beyond the response head (HTTP/1.1; chunk framing included).
 */
function bodyBytes(s: HttpStream): { bytesReceived: number; bytesSent: number } {
  const wire = streamBytes(s);
  const cl = s.req.headers['content-length'];
  const bytesReceived = cl !== undefined ? Number(cl) || 0 : 0;
  if (s.responseContentLength >= 0 || s.h2) return { bytesReceived, bytesSent: s.responseContentLength > 0 ? s.responseContentLength : 0 };
  const head = (s.res as unknown as { _header?: string | null })._header;
  return { bytesReceived, bytesSent: Math.max(0, wire.sent - (head ? Buffer.byteLength(head, 'latin1') : 0)) };
}

export const accessLogFilter: HttpFilterFactory = (listener, ctx) => {
  const format = accessLogFormat(ctx.current?.snapshot.telemetry, listener.direction);
  return format === null ? null : new AccessLogFilter(ctx, telemetryOf(ctx).accessLog, format);
};
