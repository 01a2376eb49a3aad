import { seededRng, type Rng } from '../workload/random.js';
import { DEFAULT_PORT, DEFAULT_VERSION, type Call, type Step, type Topology, type TopologyService } from './model.js';

// Random service graphs for benchmarks: N services in layers, each calling only services of
// deeper layers (so the graph is a DAG and every request ends), every service reachable from
// the entrypoint (service 0), at most `maxFanOut` callees per service. The same options and
// seed always give the same topology; `topologyToYaml` writes it as a file.

export interface GenerateOptions {
  services: number;
  seed: number;
  maxFanOut?: number; // default 3
  namespace?: string; // default `bench`
  /** Chance that a service's calls run concurrently rather than one after another. Default 0.5. */
  concurrency?: number;
  /** Chance that a service has a second version (v2). Default 0. */
  versionChance?: number;
  /** Processing time of every service, uniform in this range (ms). Default 0..2. */
  latencyMs?: [number, number];
  responseSize?: number; // bytes, default 128
}

export function generateTopology(opts: GenerateOptions): Topology {
  const n = opts.services;
  if (!Number.isInteger(n) || n < 1) throw new Error('services must be a whole number, 1 or more');
  const fanOut = opts.maxFanOut ?? 3;
  if (!Number.isInteger(fanOut) || fanOut < 1) throw new Error('maxFanOut must be a whole number, 1 or more');
  const rng = seededRng(opts.seed);
  const ns = opts.namespace ?? 'bench';
  const layers = layerSizes(n, fanOut, rng);
  const names = Array.from({ length: n }, (_, i) => `svc-${i}`);
  const layerOf: number[] = [];
  layers.forEach((size, l) => {
    for (let i = 0; i < size; i++) layerOf.push(l);
  });
  const first = (l: number) => layers.slice(0, l).reduce((a, b) => a + b, 0);
  const callees: number[][] = names.map(() => []);
  // Every service below the entrypoint gets one caller in the layer just above (which has room: layerSizes guarantees it).
  for (let i = 1; i < n; i++) {
    const l = layerOf[i];
    const parents = range(first(l - 1), first(l)).filter((p) => callees[p].length < fanOut);
    callees[parents[Math.floor(rng() * parents.length)]].push(i);
  }
  // Then some extra edges to any deeper layer, within the fan-out bound.
  for (let i = 0; i < n; i++) {
    const deeper = range(first(layerOf[i] + 1), n).filter((j) => !callees[i].includes(j));
    while (callees[i].length < fanOut && deeper.length && rng() < 0.3) {
      callees[i].push(deeper.splice(Math.floor(rng() * deeper.length), 1)[0]);
    }
    callees[i].sort((a, b) => a - b);
  }
  const [lo, hi] = opts.latencyMs ?? [0, 2];
  const services: TopologyService[] = names.map((name, i) => {
    const script = scriptFor(callees[i].map((j) => names[j]), ns, rng, opts.concurrency ?? 0.5);
    const behaviour = () => ({ errorRate: 0, responseSize: opts.responseSize ?? 128, latency: { distribution: 'uniform' as const, minMs: lo, maxMs: hi }, script: structuredClone(script) });
    const versions = [{ name: DEFAULT_VERSION, replicas: 1, labels: {}, behaviour: behaviour(), line: 0 }];
    if (rng() < (opts.versionChance ?? 0)) versions.push({ name: 'v2', replicas: 1, labels: {}, behaviour: behaviour(), line: 0 });
    return {
      name,
      namespace: ns,
      serviceAccount: name,
      isEntrypoint: i === 0,
      ports: [{ name: 'http', port: DEFAULT_PORT, targetPort: DEFAULT_PORT, protocol: 'http' as const }],
      versions,
      line: 0,
    };
  });
  return { file: `generated:${n}-services-seed-${opts.seed}`, services };
}

/** Layer widths: 1 for the entrypoint, then each layer at most `fanOut` times the one above. */
function layerSizes(n: number, fanOut: number, rng: Rng): number[] {
  const sizes = [1];
  let left = n - 1;
  while (left > 0) {
    const max = Math.min(left, sizes[sizes.length - 1] * fanOut);
    const size = Math.max(1, Math.min(max, Math.ceil(max * (0.5 + rng() / 2))));
    sizes.push(size);
    left -= size;
  }
  return sizes;
}

function scriptFor(targets: string[], ns: string, rng: Rng, concurrency: number): Step[] {
  const call = (service: string): { kind: 'call'; call: Call } => ({
    kind: 'call',
    call: { service, namespace: ns, port: DEFAULT_PORT, protocol: 'http', path: '/', method: 'GET', size: 0, probability: 1, attempts: 1, onError: 'propagate', line: 0 },
  });
  if (targets.length > 1 && rng() < concurrency) return [{ kind: 'concurrent', steps: targets.map(call) }];
  return targets.map(call);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}
