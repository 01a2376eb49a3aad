import { readFileSync } from 'node:fs';

// A recorded CSV series file as columns of numbers by timestamp. Nezha's files are plain CSV
// (no quoted commas), one row a minute; a cell that is empty or not a number is null, never 0.

export interface CsvTable {
  header: string[];
  rows: Array<Array<number | null>>;
  /** Raw text cells, for the few string columns (pod and service names). */
  text: string[][];
}

export function readCsvTable(path: string): CsvTable {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = (lines.shift() ?? '').split(',').map((h) => h.trim());
  const text = lines.map((l) => l.split(','));
  const rows = text.map((cells) => cells.map(toNumber));
  return { header, rows, text };
}

function toNumber(cell: string): number | null {
  const t = cell.trim();
  if (t === '') return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

/** The column's index, or -1 when the file has no such column. */
export function columnIndex(t: CsvTable, name: string): number {
  return t.header.indexOf(name);
}

/**
 * Mean of a column over the rows whose timestamp (column `tsCol`, Unix seconds) lies in
 * (fromS, toS]; null when no row there has a value.
 */
export function windowMean(t: CsvTable, tsCol: number, col: number, fromS: number, toS: number): number | null {
  if (col < 0 || tsCol < 0) return null;
  let sum = 0;
  let n = 0;
  for (const r of t.rows) {
    const ts = r[tsCol];
    const v = r[col];
    if (ts === null || ts <= fromS || ts > toS || v === null) continue;
    sum += v;
    n++;
  }
  return n > 0 ? sum / n : null;
}
