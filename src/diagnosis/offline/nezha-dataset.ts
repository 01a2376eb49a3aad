import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { columnIndex, readCsvTable, type CsvTable } from './csv-table.js';

// One day of Nezha's recorded data (github.com/IntelligentDDS/Nezha, MIT): the fault list (the
// labels), one metrics file per pod, the entry point's SLO series, and for Online Boutique the
// call graph and the per-edge median latency from both reporters. Only reading happens here;
// what the figures mean for diagnosis is decided in nezha-snapshot.ts.

export interface NezhaFault {
  day: string;
  injectTime: string;
  /** Unix seconds (UTC). */
  injectS: number;
  pod: string;
  /** The root-cause service: the pod name without its ReplicaSet hash and pod suffix. */
  service: string;
  type: string;
}

export interface NezhaDay {
  day: string;
  faults: NezhaFault[];
  /** By pod name. */
  pods: Map<string, CsvTable>;
  front: CsvTable | null;
  /** `<caller>_<callee>` columns; OB only. */
  source50: CsvTable | null;
  destination50: CsvTable | null;
  /** Service -> service calls (dependency.csv rows whose target is a service, not a node IP). */
  calls: Array<{ source: string; target: string }>;
}

/** `cartservice-579f59597d-wc2lz` -> `cartservice`: Deployment pods end in `-<hash>-<suffix>`. */
export function serviceOfPod(pod: string): string {
  const parts = pod.split('-');
  return parts.length > 2 ? parts.slice(0, -2).join('-') : pod;
}

/** The days under `dir` that have metrics (a `metric/` folder and a fault list). */
export function nezhaDays(dir: string): string[] {
  return readdirSync(dir)
    .filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d) && existsSync(join(dir, d, 'metric')) && existsSync(join(dir, d, `${d}-fault_list.json`)))
    .sort();
}

export function readFaults(dir: string, day: string): NezhaFault[] {
  const raw = JSON.parse(readFileSync(join(dir, day, `${day}-fault_list.json`), 'utf8')) as Record<string, Array<Record<string, string>>>;
  const out: NezhaFault[] = [];
  for (const list of Object.values(raw)) {
    for (const f of list) {
      out.push({ day, injectTime: f.inject_time, injectS: Number(f.inject_timestamp), pod: f.inject_pod, service: serviceOfPod(f.inject_pod), type: f.inject_type });
    }
  }
  return out.sort((a, b) => a.injectS - b.injectS);
}

export function readNezhaDay(dir: string, day: string): NezhaDay {
  const metricDir = join(dir, day, 'metric');
  const file = (name: string) => (existsSync(join(metricDir, name)) ? readCsvTable(join(metricDir, name)) : null);
  const pods = new Map<string, CsvTable>();
  for (const f of readdirSync(metricDir).sort()) {
    const m = /^(.+)_metric\.csv$/.exec(f);
    if (m) pods.set(m[1], readCsvTable(join(metricDir, f)));
  }
  const calls: NezhaDay['calls'] = [];
  const dep = file('dependency.csv');
  if (dep) {
    const s = columnIndex(dep, 'Source');
    const t = columnIndex(dep, 'Target');
    for (const cells of dep.text) {
      const target = cells[t]?.trim() ?? '';
      // The placement rows (service -> node IP) are not calls.
      if (target && !/^\d+\.\d+\.\d+\.\d+$/.test(target)) calls.push({ source: cells[s].trim(), target });
    }
  }
  return { day, faults: readFaults(dir, day), pods, front: file('front_service.csv'), source50: file('source_50.csv'), destination50: file('destination_50.csv'), calls };
}
