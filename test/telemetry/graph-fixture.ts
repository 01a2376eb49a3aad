import { ISTIO_BUCKETS } from '../../src/telemetry/sidecar/histogram.js';
import type { MetricsStore } from '../../src/telemetry/store/metrics-store.js';

// Known traffic for the graph, health and stat tests: Istio's series exactly as sidecars export
// them (every standard label, both reporters) plus the labels the scraper adds per pod, written
// into a MetricsStore as two minutes of 1 s scrapes ending at NOW. Each call is a steady rate,
// and all its requests fall in one latency bucket, so every figure has an exact value:
// rate() over [1m] is the rate, a quantile q of a bucket (lo, hi] is lo + (hi - lo) * q.

export const NOW = 1_700_000_040_000;
const START = NOW - 120_000;

export interface Wl {
  workload: string;
  namespace: string;
  app: string;
  version: string;
  pod: string;
}

export const wl = (app: string, version: string, namespace: string): Wl => ({ workload: `${app}-${version}`, namespace, app, version, pod: `${app}-${version}-0` });

export const OUTSIDE = null;
export const FRONTEND = wl('frontend', 'v1', 'shop');
export const CART_V1 = wl('cart', 'v1', 'shop');
export const CART_V2 = wl('cart', 'v2', 'shop');
export const PAYMENTS = wl('payments', 'v1', 'pay');
export const DB = wl('db', 'v1', 'shop');
export const CATALOG = wl('catalog', 'v1', 'shop');

export const fqdn = (name: string, ns: string) => `${name}.${ns}.svc.cluster.local`;

export interface Call {
  reporter: 'source' | 'destination';
  from: Wl | null;
  service: string;
  /** null: no endpoint was chosen (UH, NR). */
  to: Wl | null;
  protocol?: 'http' | 'grpc';
  code?: string;
  grpc?: string;
  flags?: string;
  security?: string;
  rps: number;
  /** Upper bound of the latency bucket every request falls in. */
  bucket: number;
}

function peer(prefix: 'source' | 'destination', w: Wl | null, self: boolean): Record<string, string> {
  const v = (x: string) => (w ? x : 'unknown');
  return {
    [`${prefix}_workload`]: v(w?.workload ?? ''),
    [`${prefix}_workload_namespace`]: v(w?.namespace ?? ''),
    [`${prefix}_app`]: v(w?.app ?? ''),
    [`${prefix}_version`]: v(w?.version ?? ''),
    [`${prefix}_canonical_service`]: v(w?.app ?? ''),
    [`${prefix}_canonical_revision`]: w ? w.version : 'latest',
    [`${prefix}_principal`]: 'unknown',
    [`${prefix}_cluster`]: w || self ? 'Kubernetes' : 'unknown',
  };
}

/** The scraper's labels of the pod whose sidecar reports (Istio's Prometheus addon's). */
function scrapeLabels(w: Wl): Record<string, string> {
  return { job: 'kubernetes-pods', instance: `10.0.0.1:15090`, namespace: w.namespace, pod: w.pod, app: w.app, version: w.version };
}

function edgeLabels(c: { reporter: Call['reporter']; from: Wl | null; service: string; to: Wl | null }): Record<string, string> {
  const [name, ns] = c.service.split('.');
  return {
    reporter: c.reporter,
    ...peer('source', c.from, c.reporter === 'source'),
    ...peer('destination', c.to, c.reporter === 'destination'),
    destination_service: c.service,
    destination_service_name: name,
    destination_service_namespace: c.to ? c.to.namespace : c.reporter === 'destination' ? ns : 'unknown',
  };
}

function reportingPod(c: { reporter: Call['reporter']; from: Wl | null; to: Wl | null }): Wl {
  const w = c.reporter === 'source' ? c.from : c.to;
  if (!w) throw new Error('a report comes from a sidecar');
  return w;
}

/** Writes a counter growing at `rps` per second from START to NOW, one sample a second. */
function counter(store: MetricsStore, labels: Record<string, string>, rps: number): void {
  const s = store.series(labels)!;
  for (let t = START; t <= NOW; t += 1000) store.append(s, t, (rps * (t - START)) / 1000);
}

export function addCall(store: MetricsStore, c: Call): void {
  const protocol = c.protocol ?? 'http';
  const labels = {
    ...scrapeLabels(reportingPod(c)),
    ...edgeLabels(c),
    request_protocol: protocol,
    response_code: c.code ?? '200',
    grpc_response_status: protocol === 'grpc' ? (c.grpc ?? '0') : '',
    response_flags: c.flags ?? '-',
    connection_security_policy: c.security ?? (c.reporter === 'source' ? 'unknown' : 'none'),
  };
  counter(store, { __name__: 'istio_requests_total', ...labels }, c.rps);
  counter(store, { __name__: 'istio_request_duration_milliseconds_count', ...labels }, c.rps);
  for (const le of [...ISTIO_BUCKETS, Infinity]) {
    counter(store, { __name__: 'istio_request_duration_milliseconds_bucket', ...labels, le: le === Infinity ? '+Inf' : String(le) }, le >= c.bucket ? c.rps : 0);
  }
}

export interface TcpCall {
  reporter: 'source' | 'destination';
  from: Wl | null;
  service: string;
  to: Wl | null;
  sentBytesPerSec: number;
  receivedBytesPerSec: number;
  openedPerSec: number;
}

export function addTcp(store: MetricsStore, c: TcpCall): void {
  const labels = {
    ...scrapeLabels(reportingPod(c)),
    ...edgeLabels(c),
    request_protocol: 'tcp',
    response_flags: '-',
    connection_security_policy: c.reporter === 'source' ? 'unknown' : 'none',
  };
  counter(store, { __name__: 'istio_tcp_sent_bytes_total', ...labels }, c.sentBytesPerSec);
  counter(store, { __name__: 'istio_tcp_received_bytes_total', ...labels }, c.receivedBytesPerSec);
  counter(store, { __name__: 'istio_tcp_connections_opened_total', ...labels }, c.openedPerSec);
}

/** An idle series: a destination sidecar that served requests long ago (its counter no longer moves). */
export function addIdle(store: MetricsStore, to: Wl, service: string): void {
  const labels = { __name__: 'istio_requests_total', ...scrapeLabels(to), ...edgeLabels({ reporter: 'destination', from: OUTSIDE, service, to }), request_protocol: 'http', response_code: '200', response_flags: '-', connection_security_policy: 'none' };
  const s = store.series(labels)!;
  for (let t = START; t <= NOW; t += 1000) store.append(s, t, 42);
}

/**
 * The shop:
 * - outside the mesh -> frontend: 10 rps 200 and 1 rps 404, in (5, 10] ms (destination reports only);
 * - frontend-v1 -> cart: v1 answers 6 rps 200 in (10, 25]; v2 2 rps 503 in (25, 50]; 2 rps find
 *   no endpoint (503 UH) in (0.5, 1]; destination reports: v1 on mutual TLS, v2 plaintext;
 * - frontend-v1 -> payments (namespace pay, gRPC): 9 rps OK and 1 rps UNAVAILABLE (14), in (1, 5];
 * - cart-v1 -> db (TCP): 1000 B/s sent, 500 B/s received, 0.5 connections/s; the db sidecar's
 *   reports name no source (plain TCP carries no peer metadata);
 * - catalog-v1 was called long ago and is idle now.
 */
export function fillShop(store: MetricsStore): void {
  const cart = fqdn('cart', 'shop');
  const frontend = fqdn('frontend', 'shop');
  const payments = fqdn('payments', 'pay');
  const db = fqdn('db', 'shop');
  addCall(store, { reporter: 'destination', from: OUTSIDE, service: frontend, to: FRONTEND, rps: 10, bucket: 10 });
  addCall(store, { reporter: 'destination', from: OUTSIDE, service: frontend, to: FRONTEND, code: '404', rps: 1, bucket: 10 });
  for (const reporter of ['source', 'destination'] as const) {
    addCall(store, { reporter, from: FRONTEND, service: cart, to: CART_V1, rps: 6, bucket: 25, ...(reporter === 'destination' && { security: 'mutual_tls' }) });
    addCall(store, { reporter, from: FRONTEND, service: cart, to: CART_V2, code: '503', rps: 2, bucket: 50 });
    addCall(store, { reporter, from: FRONTEND, service: payments, to: PAYMENTS, protocol: 'grpc', rps: 9, bucket: 5 });
    addCall(store, { reporter, from: FRONTEND, service: payments, to: PAYMENTS, protocol: 'grpc', grpc: '14', rps: 1, bucket: 5 });
  }
  addCall(store, { reporter: 'source', from: FRONTEND, service: cart, to: null, code: '503', flags: 'UH', rps: 2, bucket: 1 });
  addTcp(store, { reporter: 'source', from: CART_V1, service: db, to: DB, sentBytesPerSec: 1000, receivedBytesPerSec: 500, openedPerSec: 0.5 });
  addTcp(store, { reporter: 'destination', from: OUTSIDE, service: db, to: DB, sentBytesPerSec: 500, receivedBytesPerSec: 1000, openedPerSec: 0.5 });
  addIdle(store, CATALOG, fqdn('catalog', 'shop'));
}
