// Benchmarks reachable through `meshmedic bench NAME`. Each prints figures measured in one run.
import { analyzeBench } from './analyze.js';
import { diagnosisLiveBench } from './diagnosis-live.js';
import { diagnosisOfflineBench } from './diagnosis-offline.js';
import { diagnosisTickBench } from './diagnosis-tick.js';
import { proxyBench } from './proxy.js';
import { recoveryBench } from './recovery.js';
import { soakBench } from './soak.js';
import { storeBench } from './store.js';

export interface BenchOptions {
  size?: number;
  /** A data directory (benchmarks that read recorded data). */
  data?: string;
  runs: number;
  /** A topology file or directory (the live diagnosis benchmark). */
  topology?: string;
  /** `--scenarios a,b`: names (recovery), or one whole number, how many (diagnosis). */
  scenarios?: string[];
  /** `--faults a,b`: only these fault types (the live diagnosis benchmark). */
  faults?: string[];
  /** `--seed N`: the seed of the benchmark's randomness. */
  seed?: number;
  progress: (line: string) => void;
  /** A record printed as soon as it is measured (benchmarks with `streams`). */
  emit?: (record: Record<string, unknown>) => void;
}

export interface Benchmark {
  description: string;
  /** Prints one record per measurement as it goes (emit), then the summary as one line. */
  streams?: boolean;
  run(opts: BenchOptions): Promise<Record<string, unknown>>;
}

export const BENCHMARKS: Record<string, Benchmark> = {
  analyze: analyzeBench,
  proxy: proxyBench,
  store: storeBench,
  soak: soakBench,
  'diagnosis-offline': diagnosisOfflineBench,
  recovery: recoveryBench,
  diagnosis: diagnosisLiveBench,
  'diagnosis-tick': diagnosisTickBench,
};
