import type { Clock, RandomSource } from './clock.js';
import type { CompiledSnapshot } from './compiled-snapshot.js';
import type { Stats } from './stats.js';

/** What listeners and filters read from the sidecar that runs them. */
export interface ProxyContext {
  /** The snapshot in force (null before the first one). */
  readonly current: CompiledSnapshot | null;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly stats: Stats;
  log(message: string): void;
}
