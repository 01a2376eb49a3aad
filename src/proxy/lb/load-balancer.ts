import type { UpstreamHost } from '../upstream/host.js';

/**
 * Picks one healthy host of a cluster. Built once per snapshot over the cluster's healthy
 * hosts; `hash` is the request's consistent-hash key when the cluster has a hash policy
 * (undefined: no key, and hash balancers then pick at random, as Envoy does).
 */
export interface LoadBalancer {
  choose(hash: number | undefined): UpstreamHost | null;
}

export const EMPTY_BALANCER: LoadBalancer = { choose: () => null };

/** Whether all endpoint weights (Envoy's load_balancing_weight, 1 when unset) are equal: balancers then skip weighting. */
export const allEqual = (w: readonly number[]): boolean => w.every((x) => x === w[0]);
