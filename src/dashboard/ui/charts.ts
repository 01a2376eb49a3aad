import uPlot from 'uplot';
import { api } from './api.js';
import { h } from './format.js';

// Time series charts from Prometheus's query_range API (the embedded store's, or a real
// Prometheus's: same queries). One chart per question, each series named by its legend.

const PALETTE = ['#1c7ed6', '#f08c00', '#e03131', '#2f9e44', '#7048e8'];

interface RangeAnswer {
  data: { result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> };
}

export interface ChartSeries {
  legend: string;
  query: string;
  /** A ratio: `query / denominator`, per step. */
  denominator?: string;
}

export interface ChartOptions {
  minutes?: number;
  stepS?: number;
  unit?: string;
  width?: number;
  scale?: number;
}

async function range(query: string, startS: number, endS: number, stepS: number) {
  const q = new URLSearchParams({ query, start: String(startS), end: String(endS), step: String(stepS) });
  const body = await api<RangeAnswer>(`/api/v1/query_range?${q}`);
  return body.data.result;
}

/**
 * A chart of `series` over the last `minutes`, into `el`. Missing points stay gaps (null),
 * never zeros: no data is not "nothing happened".
 */
export async function lineChart(el: HTMLElement, title: string, series: ChartSeries[], { minutes = 5, stepS = 5, unit = '', width = 340, scale = 1 }: ChartOptions = {}): Promise<void> {
  // The box first, so charts stand in the order asked whatever order their data comes in.
  const box = h('div', { class: 'chart' }, h('div', { class: 'chart-title' }, title));
  el.append(box);
  const endS = Math.floor(Date.now() / 1000);
  const startS = endS - minutes * 60;
  const xs: number[] = [];
  for (let t = startS; t <= endS; t += stepS) xs.push(t);
  const column = async (query: string): Promise<Array<number | null>> => {
    const result = await range(query, startS, endS, stepS).catch(() => []);
    const byT = new Map<number, number>();
    for (const r of result) for (const [t, v] of r.values) byT.set(Math.round(t), (byT.get(Math.round(t)) ?? 0) + Number(v));
    return xs.map((t) => {
      const v = byT.get(t);
      return v !== undefined && Number.isFinite(v) ? v : null;
    });
  };
  // A ratio series is 0 where the denominator has traffic and the numerator has no series (no
  // 5xx at all yet), and a gap where there is no traffic.
  const ys = await Promise.all(series.map(async (s) => {
    const [num, den] = await Promise.all([column(s.query), s.denominator ? column(s.denominator) : undefined]);
    if (!den) return num.map((v) => (v === null ? null : v * scale));
    return den.map((d, i) => (d === null || d === 0 ? null : ((num[i] ?? 0) / d) * scale));
  }));
  // A young mesh: start the chart where its data starts (a minute at least), not at an empty left half.
  const first = Math.min(...ys.map((y) => y.findIndex((v) => v !== null)).filter((i) => i >= 0), xs.length);
  const from = Math.max(0, Math.min(first, xs.length - Math.ceil(60 / stepS)));
  xs.splice(0, from);
  for (const y of ys) y.splice(0, from);
  // How many points the first series has: a test (and a person) can tell an empty chart from a flat one.
  box.dataset.points = String(ys[0]?.filter((v) => v !== null).length ?? 0);
  const axis = { stroke: '#868e96', grid: { stroke: '#f1f3f5' }, font: '10px system-ui' };
  new uPlot(
    {
      width,
      height: 130,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [{ ...axis, size: 28 }, { ...axis, size: 56, values: (_u, vals) => vals.map((v) => `${+v.toFixed(v >= 10 ? 0 : 2)}${unit}`) }],
      series: [{}, ...series.map((s, i) => ({ label: s.legend, stroke: PALETTE[i % PALETTE.length], width: 1.5, spanGaps: false }))],
    },
    [xs, ...ys] as uPlot.AlignedData,
    box,
  );
}
