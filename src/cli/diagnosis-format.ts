import type { DiagnosisReport } from '../diagnosis/diagnosis-service.js';
import type { Detection, Incident, RankedCause } from '../diagnosis/model.js';
import { describeTarget } from '../diagnosis/model.js';
import { printTable } from './output.js';

// How ranked causes, detections and incidents read in a terminal: the top causes first, each
// with its score, mechanism and the evidence lines a person can check (and the query to rerun).

const time = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');

export function age(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : s < 172_800 ? `${Math.round(s / 3600)}h` : `${Math.round(s / 86_400)}d`;
}

export function writeCauses(causes: readonly RankedCause[], out: NodeJS.WritableStream = process.stdout, opts: { limit?: number; queries?: boolean } = {}): void {
  const shown = causes.slice(0, opts.limit ?? 5);
  if (shown.length === 0) {
    out.write('  no cause stands out: the signals show no anomaly the generators can place\n');
    return;
  }
  shown.forEach((c, i) => {
    out.write(`  ${i + 1}. [${c.score.toFixed(2)}] ${describeTarget(c.target)}${c.mechanism ? ` (${c.mechanism})` : ''}\n`);
    out.write(`       ${c.summary}\n`);
    for (const e of c.evidence) {
      out.write(`       - ${e.signal}: ${e.text}\n`);
      if (opts.queries !== false && e.query) out.write(`         query: ${e.query}\n`);
    }
  });
  if (causes.length > shown.length) out.write(`  ... ${causes.length - shown.length} more (-o json shows all)\n`);
}

export function writeDetections(detections: readonly Detection[], out: NodeJS.WritableStream = process.stdout): void {
  for (const d of detections) out.write(`  - ${d.check}: ${d.text ?? `${d.subject} ${d.value} (threshold ${d.threshold})`}\n`);
}

/** `analyze`'s runtime section: what fails now and the ranked causes (`from`: where the metrics came from, when not the mesh's own store). */
export function writeRuntimeFindings(r: DiagnosisReport, from?: string): void {
  const seconds = Math.round((r.current.endMs - r.current.startMs) / 1000);
  process.stdout.write(`\nRuntime findings${from ? ` from ${from}` : ''} (last ${seconds}s${r.incident ? `, incident ${r.incident}` : ''}${r.service ? `, service ${r.service} and what it depends on` : ''}):\n`);
  if (r.detections.length) {
    process.stdout.write('Failing now:\n');
    writeDetections(r.detections);
  } else process.stdout.write('Failing now: nothing\n');
  process.stdout.write('Ranked causes:\n');
  writeCauses(r.causes);
  for (const n of r.notes) process.stderr.write(`note: ${n}\n`);
}

export function writeIncident(i: Incident, out: NodeJS.WritableStream = process.stdout): void {
  out.write(`Incident ${i.id} (${i.status}) in ${i.namespace || '(no namespace)'}\n`);
  out.write(`Subject:  ${i.subject}\n`);
  out.write(`Opened:   ${time(i.openedAt)} (anomaly from about ${time(i.onsetAt)})\n`);
  if (i.closedAt !== undefined) out.write(`Closed:   ${time(i.closedAt)} (lasted ${age(i.openedAt, i.closedAt)})\n`);
  out.write(`\nRanked causes:\n`);
  writeCauses(i.causes, out);
  out.write(`\nDetections (${i.detections.length}):\n`);
  writeDetections(i.detections, out);
  out.write(`\nTimeline:\n`);
  for (const t of i.timeline) out.write(`  ${time(t.at)}  ${t.text}\n`);
}

export interface IncidentRow {
  id: string;
  status: string;
  namespace: string;
  subject: string;
  openedAt: number;
  closedAt?: number;
  detections: number;
  topCause?: { summary: string; score: number };
}

export function printIncidents(rows: readonly IncidentRow[], now = Date.now()): void {
  printTable(
    ['ID', 'STATUS', 'NAMESPACE', 'OPENED', 'DURATION', 'SUBJECT', 'TOP CAUSE'],
    rows.map((r) => [
      r.id, r.status, r.namespace || '-', `${age(r.openedAt, now)} ago`, r.closedAt !== undefined ? age(r.openedAt, r.closedAt) : `${age(r.openedAt, now)}+`, r.subject,
      r.topCause ? `${r.topCause.summary} [${r.topCause.score.toFixed(2)}]` : '-',
    ]),
  );
}
