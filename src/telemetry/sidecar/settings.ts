import type { Listener, TelemetrySettings } from '../../api/snapshot.js';

// What a snapshot's telemetry settings mean for one listener, with Istio's defaults for what the
// control plane left out: metrics on, access logging off, tracing at 1%.

/** Istio's metric names as the Telemetry API selects them (MetricSelector.IstioMetric). */
export const IstioMetric = {
  requestCount: 'REQUEST_COUNT',
  requestDuration: 'REQUEST_DURATION',
  requestSize: 'REQUEST_SIZE',
  responseSize: 'RESPONSE_SIZE',
  tcpOpened: 'TCP_OPENED_CONNECTIONS',
  tcpClosed: 'TCP_CLOSED_CONNECTIONS',
  tcpSent: 'TCP_SENT_BYTES',
  tcpReceived: 'TCP_RECEIVED_BYTES',
} as const;

export const DEFAULT_SAMPLING_PERCENT = 1;

/** Which standard metrics a listener records. */
export interface MetricSwitches {
  requestCount: boolean;
  requestDuration: boolean;
  requestSize: boolean;
  responseSize: boolean;
  tcpOpened: boolean;
  tcpClosed: boolean;
  tcpSent: boolean;
  tcpReceived: boolean;
}

export function metricSwitches(t: TelemetrySettings | undefined, direction: Listener['direction']): MetricSwitches {
  const enabled = t?.metrics?.enabled ?? true;
  const disabled = new Set(t?.metrics?.disabled?.[direction] ?? []);
  const on = (name: string) => enabled && !disabled.has(name);
  return {
    requestCount: on(IstioMetric.requestCount),
    requestDuration: on(IstioMetric.requestDuration),
    requestSize: on(IstioMetric.requestSize),
    responseSize: on(IstioMetric.responseSize),
    tcpOpened: on(IstioMetric.tcpOpened),
    tcpClosed: on(IstioMetric.tcpClosed),
    tcpSent: on(IstioMetric.tcpSent),
    tcpReceived: on(IstioMetric.tcpReceived),
  };
}

export function anyHttpMetric(m: MetricSwitches): boolean {
  return m.requestCount || m.requestDuration || m.requestSize || m.responseSize;
}

export function anyTcpMetric(m: MetricSwitches): boolean {
  return m.tcpOpened || m.tcpClosed || m.tcpSent || m.tcpReceived;
}

/** The access log format of a listener, or null when it does not log. */
export function accessLogFormat(t: TelemetrySettings | undefined, direction: Listener['direction']): 'text' | 'json' | null {
  const a = t?.accessLog;
  if (!a?.enabled) return null;
  if (a.directions && !a.directions.includes(direction)) return null;
  return a.format;
}

export function samplingPercent(t: TelemetrySettings | undefined): number {
  return t?.tracing?.samplingPercent ?? DEFAULT_SAMPLING_PERCENT;
}
