// Benchmarks reachable through `meshmedic bench NAME`. Each prints figures measured in one run.
import { analyzeBench } from './analyze.js';
import { diagnosisOfflineBench } from './diagnosis-offline.js';
import { proxyBench } from './proxy.js';
import { soakBench } from './soak.js';
import { storeBench } from './store.js';

export interface BenchOptions {
  size?: number;
  /** A data directory (benchmarks that read recorded data). */
  data?: string;
  runs: number;
  progress: (line: string) => void;
}

export interface Benchmark {
  description: string;
  run(opts: BenchOptions): Promise<Record<string, unknown>>;
}

export const BENCHMARKS: Record<string, Benchmark> = {
  analyze: analyzeBench,
  proxy: proxyBench,
  store: storeBench,
  soak: soakBench,
  'diagnosis-offline': diagnosisOfflineBench,
};
