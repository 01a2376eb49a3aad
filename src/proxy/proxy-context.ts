import type { Clock, RandomSource } from './clock.js';
import type { CompiledSnapshot } from './compiled-snapshot.js';
import type { Stats } from './stats.js';
import type { SpanSink } from '../telemetry/tracing/span.js';
import type { WorkloadCredentials } from './tls/workload-credentials.js';

/** What listeners and filters read from the sidecar that runs them. */
export interface ProxyContext {
  /** The snapshot in force (null before the first one). */
  readonly current: CompiledSnapshot | null;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly stats: Stats;
  /** Where finished trace spans go (absent: sampled requests are propagated but no span is kept). */
  readonly spanSink?: SpanSink;
  /** This workload's certificate for mutual TLS (absent or empty: plaintext only). */
  readonly tls?: WorkloadCredentials | null;
  log(message: string): void;
}
