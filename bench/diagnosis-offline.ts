import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Benchmark } from './registry.js';
import { MeshmedicError } from '../src/api/errors.js';
import { localize } from '../src/diagnosis/localization/localize.js';
import { describeTarget, type CauseTarget, type RankedCause } from '../src/diagnosis/model.js';
import { nezhaDays, readNezhaDay, type NezhaFault } from '../src/diagnosis/offline/nezha-dataset.js';
import { BASELINE_S, CURRENT_S, nezhaSnapshot } from '../src/diagnosis/offline/nezha-snapshot.js';

// `meshmedic bench diagnosis-offline --data DIR`: Nezha's recorded faults (Online Boutique
// 2022-08-22/23, 56 faults; Train Ticket 2023-01-30, 17) fed to the same localize() the mesh
// runs, scored at service level as the paper's AS@k: a fault counts at k when its service is
// among the first k distinct services the ranked causes name. Printed beside the published
// Table 3 of the paper. --size N limits the faults per day (for tests).

/** Nezha paper (Yu et al., ESEC/FSE 2023), Table 3, service level, in %; copied from the data set's README. */
export const PAPER_TABLE_3 = {
  source: 'Yu et al., "Nezha: Interpretable Fine-Grained Root Causes Analysis for Microservices on Multi-Modal Observability Data", ESEC/FSE 2023, Table 3 (AS@k, service level, %)',
  rows: [
    { method: 'Nezha', data: 'metrics+logs+traces', ob: [92.86, 96.43, 96.43], tt: [86.67, 97.78, 97.78] },
    { method: 'Nezha without logs', data: 'metrics+traces', ob: [64.28, 64.28, 64.28], tt: [42.22, 44.44, 44.44] },
    { method: 'PDiagnose', data: 'metrics+logs+traces', ob: [41.07, 73.21, 82.14], tt: [8.89, 13.33, 22.22] },
    { method: 'MicroRank', data: 'traces', ob: [41.07, 48.21, 62.5], tt: [15.56, 24.44, 35.56] },
    { method: 'TraceAnomaly', data: 'traces', ob: [30.35, 33.92, 48.21], tt: [13.33, 28.89, 33.33] },
    { method: 'MicroRCA', data: 'metrics', ob: [16.07, 62.5, 92.75], tt: [20.0, 31.11, 44.44] },
    { method: 'MicroScope', data: 'metrics', ob: [12.5, 41.07, 55.35], tt: [17.78, 26.67, 35.56] },
  ],
};

/** The days of each system in the copy (TT's 2023-01-29 has labels only). */
const SYSTEM_OF_DAY: Record<string, 'ob' | 'tt'> = { '2022-08-22': 'ob', '2022-08-23': 'ob', '2023-01-29': 'tt', '2023-01-30': 'tt' };

/** The repository's root (the folder with package.json above this file, source or dist). */
function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json')) || !readFileSync(join(d, 'package.json'), 'utf8').includes('"meshmedic"')) {
    const up = dirname(d);
    if (up === d) return process.cwd();
    d = up;
  }
  return d;
}

export function defaultNezhaDir(): string {
  return resolve(repoRoot(), '../shared/datasets/nezha');
}

/** The service a cause blames: an edge blames its destination, an external cause its host. */
function serviceOf(t: CauseTarget): string | undefined {
  return t.kind === 'external' ? t.host : t.service;
}

export function topServices(causes: readonly RankedCause[], k: number): string[] {
  const out: string[] = [];
  for (const c of causes) {
    const s = serviceOf(c.target);
    if (s && !out.includes(s)) out.push(s);
    if (out.length === k) break;
  }
  return out;
}

interface FaultResult {
  day: string;
  fault: string;
  injectTime: string;
  service: string;
  type: string;
  top5: string[];
  causes: Array<{ target: string; score: number; mechanism?: string }>;
}

function accuracy(rs: readonly FaultResult[]) {
  const at = (k: number) => (rs.length ? round(rs.filter((r) => r.top5.slice(0, k).includes(r.service)).length / rs.length) : null);
  return { n: rs.length, ac1: at(1), ac3: at(3), ac5: at(5) };
}

const round = (x: number) => Math.round(x * 10000) / 10000;

function summarize(rs: readonly FaultResult[]) {
  const types = [...new Set(rs.map((r) => r.type))].sort();
  return { ...accuracy(rs), byType: Object.fromEntries(types.map((t) => [t, accuracy(rs.filter((r) => r.type === t))])) };
}

export const diagnosisOfflineBench: Benchmark = {
  description: "Nezha's recorded faults (--data DIR, default ../shared/datasets/nezha) through localize(): AC@1/3/5 at service level beside the paper",
  async run({ size, data, progress }) {
    const dir = data ? resolve(data) : defaultNezhaDir();
    if (!existsSync(dir)) throw new MeshmedicError('E_FILE_NOT_FOUND', `no Nezha data at ${dir} (give --data DIR)`);
    const results: FaultResult[] = [];
    for (const day of nezhaDays(dir)) {
      const d = readNezhaDay(dir, day);
      const faults: NezhaFault[] = size ? d.faults.slice(0, size) : d.faults;
      for (const f of faults) {
        const causes = localize(nezhaSnapshot(d, f));
        const r: FaultResult = {
          day, fault: `${f.type} ${f.pod}`, injectTime: f.injectTime, service: f.service, type: f.type, top5: topServices(causes, 5),
          causes: causes.slice(0, 5).map((c) => ({ target: describeTarget(c.target), score: c.score, ...(c.mechanism && { mechanism: c.mechanism }) })),
        };
        results.push(r);
        progress(`${day} ${f.injectTime} ${f.type} ${f.service}: top5 ${r.top5.join(', ') || '(none)'}`);
      }
    }
    const system = (s: 'ob' | 'tt') => results.filter((r) => SYSTEM_OF_DAY[r.day] === s);
    return {
      data: dir,
      windows: { currentS: CURRENT_S, baselineS: BASELINE_S, current: 'first 180 s after inject_timestamp', baseline: '240 s before it' },
      faults: results,
      summary: { onlineBoutique: summarize(system('ob')), trainTicket: summarize(system('tt')), all: summarize(results) },
      paper: PAPER_TABLE_3,
    };
  },
};
