import type { FaultType, InjectRequest } from '../platform/local/chaos/types.js';

// The demo's scenarios: one chaos fault on Bookinfo per fault type that recovery has a remedy
// for, each aimed where Bookinfo's users feel it. Bookinfo's reviews VirtualService sends 90%
// of requests to v1 and 10% to v3 (v2 only for the user jason), so instance faults hit
// reviews-v1-0 or a single-instance service, not v2, which the load never reaches.
// Adding a scenario is one entry here.

export interface Scenario {
  name: string;
  /** One line for people: what breaks and what the user sees. */
  description: string;
  /** The remedy recovery is expected to reach for (documentation; the demo shows what it does). */
  remedy: string;
  fault: FaultType;
  target: string;
  namespace: string;
  params: InjectRequest['params'];
  /**
   * Users arrive in groups of this many requests at once (same rate); absent: one at a time.
   * A connection-pool cap is only felt by concurrent requests.
   */
  burst?: number;
}

export const DEMO_NAMESPACE = 'bookinfo';

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'bad-version',
    description: 'a new version of reviews that answers 500 gets half of the reviews traffic',
    remedy: 'shift-traffic: route reviews back to the versions that worked',
    fault: 'bad-version',
    target: 'reviews',
    namespace: DEMO_NAMESPACE,
    params: { version: 'v4', replicas: 1, percent: 50 },
  },
  {
    name: 'instance-crash',
    description: 'the only details instance crashes and stays down: every page loses its details box',
    remedy: 'restart-instance',
    fault: 'instance-crash',
    target: 'details-v1-0',
    namespace: DEMO_NAMESPACE,
    params: {},
  },
  {
    name: 'instance-hang',
    description: 'the only ratings instance hangs (SIGSTOP): reviews wait for stars that never come',
    remedy: 'restart-instance',
    fault: 'instance-hang',
    target: 'ratings-v1-0',
    namespace: DEMO_NAMESPACE,
    params: {},
  },
  {
    name: 'bad-config',
    description: 'a VirtualService change sends every reviews request to a subset that does not exist',
    remedy: 'revert-config',
    fault: 'bad-config',
    target: 'reviews',
    namespace: DEMO_NAMESPACE,
    params: { mode: 'missing-subset', subset: 'missing' },
  },
  {
    name: 'error-rate',
    description: 'the reviews-v1 instance answers 500 to 60% of requests',
    remedy: 'quarantine-instance or shift-traffic away from it',
    fault: 'error-rate',
    target: 'instance/reviews-v1-0',
    namespace: DEMO_NAMESPACE,
    params: { status: 500, percent: 60 },
  },
  {
    name: 'latency',
    description: 'the reviews-v1 instance takes 1.5 s more on every request',
    remedy: 'timeout-retry, quarantine-instance or shift-traffic away from it',
    fault: 'latency',
    target: 'instance/reviews-v1-0',
    namespace: DEMO_NAMESPACE,
    params: { delayMs: 1500, percent: 100 },
  },
  {
    name: 'pool-exhaustion',
    description: "a DestinationRule change caps reviews' connection pool at one request while users arrive four at a time: the rest overflow (503 UO)",
    remedy: 'revert-config (or limit-concurrency raised back)',
    fault: 'pool-exhaustion',
    target: 'reviews',
    namespace: DEMO_NAMESPACE,
    params: { maxConnections: 1, maxPending: 1, maxRequests: 1 },
    burst: 4,
  },
  {
    name: 'bad-authz',
    description: 'an AuthorizationPolicy on reviews allows a principal nobody has: productpage gets 403 RBAC: access denied',
    remedy: 'revert-config: delete the policy',
    fault: 'bad-authz',
    target: 'reviews',
    namespace: DEMO_NAMESPACE,
    params: { mode: 'allow-nobody' },
  },
];

export const DEFAULT_SCENARIO = 'bad-version';

export function scenarioNames(): string[] {
  return SCENARIOS.map((s) => s.name);
}

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}

/** The chaos request for a scenario, bounded: the fault ends by itself after `durationMs`. */
export function injectRequest(s: Scenario, durationMs: number): InjectRequest {
  return { type: s.fault, target: s.target, namespace: s.namespace, durationMs, params: { ...s.params } };
}
