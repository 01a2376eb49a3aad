// The API's JSON as the page reads it: the server's own types where they are plain data
// (imported as types only: nothing of the server is loaded in the browser), and the shapes of
// the dashboard's own endpoints.

import type { Incident } from '../../diagnosis/model.js';
import type { RecoveryAction } from '../../recovery/model.js';

export type { CauseTarget, Detection, IncidentSummary, RankedCause, TimelineEntry } from '../../diagnosis/model.js';
export type { ActionState, RecoveryAction, SloFigures } from '../../recovery/model.js';
export type { GraphEdge, GraphNode, TrafficGraph } from '../../telemetry/graph/types.js';
export type { SpanNode, TraceSummary, TraceView } from '../../telemetry/tracing/trace-source.js';

/** GET /api/v1/incidents/:id: the incident and, once recovery has acted, its actions. */
export interface IncidentDetail extends Incident {
  actions?: RecoveryAction[];
}

/** GET /api/v1/dashboard/config: a resource of the store with its analysis messages. */
export interface ConfigItem {
  kind: string;
  namespace: string;
  name: string;
  origin: { file: string; line: number };
  raw: { spec?: unknown } & Record<string, unknown>;
  messages: Array<{ code: string; name: string; level: 'Error' | 'Warning' | 'Info'; text: string; field: string | null; line: number | null }>;
}

/** GET /api/v1/dashboard/summary: the seed's counts. */
export interface MeshSummary {
  servicesDiscovered: number;
  endpointsMonitored: number;
  endpointsHealthy: number;
  securityPolicies: number;
  securityPoliciesByKind: Record<string, number>;
  resources: number;
  configVersion: number;
}

/** GET /api/v1/status: what the sidebar shows. */
export interface ControlPlaneStatus {
  configVersion: number;
  proxies?: { known: number; connected: number; synced: number };
}
