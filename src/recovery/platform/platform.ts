// What recovery asks of the platform the mesh runs on. Platform-neutral on purpose: the local
// mesh implements it over the mesh daemon's socket (local-platform.ts); Kubernetes (issue 10)
// will implement it with pod deletion, Deployment scale and endpoint removal.

export interface Platform {
  readonly name: string;
  /** Take an instance out of (or put it back into) every load-balancing set. */
  quarantine(namespace: string, instance: string, on: boolean): Promise<void>;
  /** Restart the instance's application. */
  restart(namespace: string, instance: string): Promise<void>;
  /** Start `add` more instances of a workload; resolves with the new instances' names once they run. */
  scale(namespace: string, workload: string, add: number): Promise<{ started: string[] }>;
  /** Stop instances `scale` started (rollback of a scale-up). */
  removeInstances(namespace: string, names: readonly string[]): Promise<void>;
}
