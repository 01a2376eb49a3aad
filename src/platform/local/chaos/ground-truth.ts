import { describeRef } from './targets.js';
import type { ConfigRef, EdgeRef, FaultParams, FaultType, RootCause, Target, TargetRef } from './types.js';

// The ground truth of an injection: the root cause a diagnosis should name first. It follows
// from the fault type and its target, and for config faults from the change made (resource
// and store version), so diagnosis and the live benchmark compare their answer with it.

type Category = RootCause['category'];

const CATEGORY: Record<FaultType, Category> = {
  'instance-crash': 'crash',
  'instance-hang': 'hang',
  latency: 'latency',
  'error-rate': 'errors',
  'cpu-burn': 'cpu',
  'network-delay': 'network',
  'bad-version': 'bad-version',
  'bad-config': 'bad-config',
  'external-outage': 'external',
  'pool-exhaustion': 'overload',
  'bad-authz': 'security-policy',
  'bad-mtls': 'security-policy',
};

/** Faults whose ground truth is the config change they made, not their target. */
const CONFIG_FAULTS: ReadonlySet<FaultType> = new Set(['bad-config', 'bad-authz', 'bad-mtls']);

/**
 * What a diagnosis should blame:
 * - process, application and network faults: the target itself (an instance, a workload, a
 *   service, an edge);
 * - bad-version: the new workload `<service>-<version>` (the bad subset), not the service;
 * - bad-config: the config change, i.e. the VirtualService at the store version it made;
 * - external-outage: the external host;
 * - pool-exhaustion: the service whose connection pool overflows (overload, `UO`); naming the
 *   DestinationRule change that capped the pool (at its store version) is as right: that change
 *   is what made the service overflow, and reverting it is the remedy;
 * - bad-authz, bad-mtls: the AuthorizationPolicy or PeerAuthentication it created, at its store
 *   version (`security-policy`), not the service whose callers are refused nor those callers
 *   (bad-mtls's change to the callers' DestinationRule is the setting the mistake clashes with).
 */
export function expectedCause(type: FaultType, target: TargetRef | EdgeRef, params: FaultParams, config?: ConfigRef): RootCause {
  const category = CATEGORY[type];
  if (type === 'bad-version' && target.kind === 'service') {
    const workload: TargetRef = { kind: 'workload', namespace: target.namespace, name: `${target.name}-${params.version}` };
    return { ...workload, category, label: `${describeRef(workload)} (bad version)` };
  }
  if ((type === 'bad-authz' || type === 'bad-mtls') && config) return { ...config, category, label: `security policy ${config.resource.kind} ${config.resource.namespace}/${config.resource.name}${config.version !== undefined ? ` (version ${config.version})` : ''}` };
  if (type === 'bad-config' && config) return { ...config, category, label: `config change ${config.resource.kind} ${config.resource.namespace}/${config.resource.name}${config.version !== undefined ? ` (version ${config.version})` : ''}` };
  if (type === 'pool-exhaustion' && config && target.kind !== 'edge') return { ...target, category, label: `${describeRef(target)} (overload)`, alsoRight: [config] };
  if (target.kind === 'edge') return { ...target, category, label: `edge ${describeRef(target.source)} -> ${describeRef(target.destination)} (network)` };
  const suffix: Record<Category, string> = {
    crash: 'crashed', hang: 'hung', latency: 'slow', errors: 'errors', cpu: 'CPU starved', network: 'network',
    'bad-version': 'bad version', 'bad-config': 'bad config', external: 'outage', overload: 'overload', 'security-policy': 'security policy',
  };
  return { ...target, category, label: `${describeRef(target)} (${suffix[category]})` };
}

/** The target as recorded: config faults record the resource they changed. */
export function recordedTarget(type: FaultType, target: TargetRef | EdgeRef, config?: ConfigRef): Target {
  return CONFIG_FAULTS.has(type) && config ? config : target;
}
