import type { Histogram } from './histogram.js';
import type { HttpSeries, IstioMetricRegistry, TcpSeries } from './metric-registry.js';

// The Prometheus text exposition format (version 0.0.4) of a sidecar's Istio metrics, as Envoy
// serves them at `/stats/prometheus`: one group per metric with its HELP and TYPE lines, series
// sorted by labels, histograms as cumulative `_bucket{le="..."}` lines then `_sum` and `_count`.
// Like Envoy's `usedonly`, a metric with no observation on a label set is left out (a series
// whose REQUEST_SIZE is disabled shows no istio_request_bytes lines).

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

interface Family<T> {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  value: (s: T) => number | Histogram;
}

const HTTP_FAMILIES: Array<Family<HttpSeries>> = [
  { name: 'istio_requests_total', type: 'counter', help: 'Requests handled by an Istio proxy.', value: (s) => s.requests },
  { name: 'istio_request_duration_milliseconds', type: 'histogram', help: 'Duration of requests, in milliseconds.', value: (s) => s.duration },
  { name: 'istio_request_bytes', type: 'histogram', help: 'Sizes of requests (headers and body on the wire), in bytes.', value: (s) => s.requestBytes },
  { name: 'istio_response_bytes', type: 'histogram', help: 'Sizes of responses (headers and body on the wire), in bytes.', value: (s) => s.responseBytes },
];

const TCP_FAMILIES: Array<Family<TcpSeries>> = [
  { name: 'istio_tcp_sent_bytes_total', type: 'counter', help: 'Bytes sent to the downstream peer of TCP connections.', value: (s) => s.sentBytes },
  { name: 'istio_tcp_received_bytes_total', type: 'counter', help: 'Bytes received from the downstream peer of TCP connections.', value: (s) => s.receivedBytes },
  { name: 'istio_tcp_connections_opened_total', type: 'counter', help: 'TCP connections opened.', value: (s) => s.opened },
  { name: 'istio_tcp_connections_closed_total', type: 'counter', help: 'TCP connections closed.', value: (s) => s.closed },
];

/** A number as the format writes it: Go's ParseFloat reads JavaScript's shortest representation. */
export function formatValue(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return Number.isNaN(v) ? 'NaN' : String(v);
}

function writeFamily<T extends { labels: string }>(out: string[], f: Family<T>, series: T[]): void {
  const lines: string[] = [];
  for (const s of series) {
    const v = f.value(s);
    if (typeof v === 'number') {
      if (v > 0) lines.push(`${f.name}{${s.labels}} ${formatValue(v)}\n`);
      continue;
    }
    if (v.count === 0) continue;
    const cumulative = v.cumulative();
    const prefix = s.labels ? `${s.labels},` : '';
    for (let i = 0; i < v.bounds.length; i++) lines.push(`${f.name}_bucket{${prefix}le="${formatValue(v.bounds[i])}"} ${cumulative[i]}\n`);
    lines.push(`${f.name}_bucket{${prefix}le="+Inf"} ${v.count}\n`);
    lines.push(`${f.name}_sum{${s.labels}} ${formatValue(v.sum)}\n`);
    lines.push(`${f.name}_count{${s.labels}} ${v.count}\n`);
  }
  if (lines.length === 0) return;
  out.push(`# HELP ${f.name} ${f.help}\n# TYPE ${f.name} ${f.type}\n`, ...lines);
}

/** The registry in the text exposition format. */
export function prometheusText(registry: IstioMetricRegistry): string {
  const { http, tcp } = registry.snapshot();
  const out: string[] = [];
  for (const f of HTTP_FAMILIES) writeFamily(out, f, http);
  for (const f of TCP_FAMILIES) writeFamily(out, f, tcp);
  return out.join('');
}
