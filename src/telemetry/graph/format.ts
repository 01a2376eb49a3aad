// How figures read in tables, DOT labels and the dashboard: rates with two significant
// decimals at most, percentages, milliseconds that switch to seconds, bytes in binary units.
// `-` stands for "no data", never for zero.

import type { TrafficFigures } from './types.js';

/** The error share worth showing for a protocol: gRPC statuses for gRPC, HTTP 5xx otherwise. */
export function errorShare(f: Pick<TrafficFigures, 'errorRatio' | 'grpcErrorRatio'> & { protocol?: string }): number | null {
  return f.protocol === 'grpc' ? (f.grpcErrorRatio ?? f.errorRatio) : f.errorRatio;
}

export function rate(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

export function percent(ratio: number | null): string {
  if (ratio === null) return '-';
  return `${(ratio * 100).toFixed(ratio === 0 || ratio === 1 ? 0 : 1)}%`;
}

export function ms(v: number): string {
  if (v >= 1000) return `${(v / 1000).toFixed(2)}s`;
  return v >= 10 ? `${Math.round(v)}ms` : `${Number(v.toFixed(1))}ms`;
}

export function bytes(v: number): string {
  if (v >= 1 << 20) return `${(v / (1 << 20)).toFixed(1)}MiB`;
  if (v >= 1024) return `${(v / 1024).toFixed(1)}KiB`;
  return `${Math.round(v)}B`;
}
