// The vocabulary of chaos: fault types, what each may target, an injection request, and the
// record kept for every injection (its ground truth: what was broken, how, when, and which root
// cause a diagnosis should name for it).

export const FAULT_TYPES = [
  'instance-crash',
  'instance-hang',
  'latency',
  'error-rate',
  'cpu-burn',
  'network-delay',
  'bad-version',
  'bad-config',
  'external-outage',
  'pool-exhaustion',
  'bad-authz',
  'bad-mtls',
] as const;

export type FaultType = (typeof FAULT_TYPES)[number];

export type TargetKind = 'service' | 'workload' | 'instance' | 'edge' | 'external' | 'config';

/** What each fault type accepts as --target, in the order a bare name is tried. */
export const TARGET_KINDS: Record<FaultType, readonly TargetKind[]> = {
  'instance-crash': ['instance'],
  'instance-hang': ['instance'],
  latency: ['service', 'workload', 'instance'],
  'error-rate': ['service', 'workload', 'instance'],
  'cpu-burn': ['instance', 'workload', 'service'],
  'network-delay': ['edge', 'instance'],
  'bad-version': ['service'],
  'bad-config': ['service'],
  'external-outage': ['external'],
  'pool-exhaustion': ['service'],
  'bad-authz': ['service'],
  'bad-mtls': ['service'],
};

/** A mesh object by kind: `name` is the service, workload, instance or host name. */
export interface TargetRef {
  kind: Exclude<TargetKind, 'edge' | 'config'>;
  namespace: string; // '' for an external host
  name: string;
}

export interface EdgeRef {
  kind: 'edge';
  source: TargetRef; // a service or a workload
  destination: TargetRef; // a service
}

export interface ConfigRef {
  kind: 'config';
  resource: { kind: string; namespace: string; name: string };
  /** The config store version the change made. */
  version?: number;
}

export type Target = TargetRef | EdgeRef | ConfigRef;

/**
 * The cause a diagnosis should put first for an injection. `category` says what is wrong
 * with the culprit; `label` is the one-line form people and benchmarks compare.
 */
export type RootCause = Target & {
  category: 'crash' | 'hang' | 'latency' | 'errors' | 'cpu' | 'network' | 'bad-version' | 'bad-config' | 'external' | 'overload' | 'security-policy';
  label: string;
  /** Other names of the same fault that are as right (the config change that made an overload). */
  alsoRight?: Target[];
};

/** Parameters after parsing: milliseconds, percentages 0..100, counts. */
export interface FaultParams {
  delayMs?: number;
  percent?: number;
  status?: number;
  cpuPercent?: number;
  version?: string;
  replicas?: number;
  mode?: string;
  host?: string;
  subset?: string;
  maxConnections?: number;
  maxPending?: number;
  maxRequests?: number;
}

/** What `chaos inject` sends to the mesh daemon. */
export interface InjectRequest {
  type: FaultType;
  target: string; // as written: `reviews`, `workload/reviews-v2`, `productpage->reviews`, `api.example.com`
  namespace?: string; // -n; absent: found from the name when it is unique
  durationMs: number;
  params: FaultParams;
}

export type InjectionState = 'active' | 'cleared' | 'expired' | 'failed' | 'abandoned';

/** One step that undoes part of an injection; kept with the record so clearing does exactly this. */
export type RevertStep =
  | { op: 'release'; process: string }
  | { op: 'resume'; process: string; pid: number }
  | { op: 'app-faults'; instances: string[] } // node ids whose application faults drop this injection
  | { op: 'network-faults'; instances: string[] } // node ids whose sidecars drop this injection
  // apiVersion: of a created resource, to delete it (absent in records made before it was kept: networking.istio.io/v1)
  | { op: 'restore-config'; previous: Array<{ kind: string; apiVersion?: string; namespace: string; name: string; raw: Record<string, unknown> | null }> }
  | { op: 'remove-instances'; instances: Array<{ namespace: string; name: string }> }
  | { op: 'restore-stand-in'; host: string; mode: string };

export interface Injection {
  id: string;
  type: FaultType;
  target: Target;
  params: FaultParams;
  expectedCause: RootCause;
  state: InjectionState;
  startedAt: number; // ms since the epoch
  endsAt: number; // when --duration runs out
  endedAt?: number;
  endReason?: string;
  /** What the injection did, for people: processes, pids, config versions. */
  effects: Record<string, unknown>;
  revert: RevertStep[];
}
