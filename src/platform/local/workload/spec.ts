// What one synthetic application process needs to run: who it is, where it listens and what it
// does with each request. Plain JSON, handed to the process in MESH_WORKLOAD_SPEC.

import type { Latency, OnError, TopologyProtocol } from '../topology/model.js';

export interface WorkloadSpec {
  service: string;
  namespace: string;
  version: string;
  workload: string; // e.g. reviews-v2
  instance: string; // e.g. reviews-v2-0
  serviceAccount: string;
  /** One listener per service port, each on its own unix socket. */
  ports: Array<{ name: string; port: number; protocol: TopologyProtocol; socketPath: string }>;
  errorRate: number; // 0..1
  responseSize: number; // bytes of padding in every answer
  latency?: Latency;
  script: SpecStep[];
  /** Seeds the instance's random numbers (latency samples, errorRate, probability), so runs repeat. */
  seed: number;
  /** Unix socket of the fault control channel (chaos); set by the mesh daemon, absent elsewhere. */
  controlSocket?: string;
}

export interface SpecCall {
  service: string;
  namespace: string;
  /** `host:port` the request names (absolute-form URL and Host): how the sidecar routes it. */
  authority: string;
  port: number;
  protocol: TopologyProtocol;
  path: string;
  method: string;
  size: number;
  probability: number;
  timeoutMs?: number;
  attempts: number;
  onError: OnError;
  fallback?: string;
}

export type SpecCommand = { kind: 'sleep'; latency: Latency } | { kind: 'call'; call: SpecCall };
export type SpecStep = SpecCommand | { kind: 'concurrent'; steps: SpecCommand[] };

export const WORKLOAD_SPEC_ENV = 'MESH_WORKLOAD_SPEC';
export const OUTBOUND_PROXY_ENV = 'MESH_OUTBOUND_PROXY';
