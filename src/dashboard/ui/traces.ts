import { api } from './api.js';
import { ago, empty, errorBox, h, header, ms } from './format.js';
import type { SpanNode, TraceSummary, TraceView } from './types.js';

// Traces: the recent ones (GET /api/v1/traces), and one trace by id as a waterfall (GET
// /api/v1/traces/:id): one row per span in tree order, a bar placed on the trace's time axis,
// Envoy's response flags and the status on the span.

export async function tracesPage(root: HTMLElement, [id]: string[]): Promise<void> {
  const input = h('input', { type: 'search', class: 'search', placeholder: 'Trace id (16 or 32 hex digits)', value: id ?? '' }) as HTMLInputElement;
  const form = h('form', { class: 'inline', onsubmit: (ev) => { ev.preventDefault(); location.hash = `#/traces/${input.value.trim()}`; } }, input, h('button', { class: 'button', type: 'submit' }, 'Open'));
  root.append(header('Traces', 'Spans recorded by the sidecars', form));
  if (id) {
    try {
      root.append(waterfall(await api<TraceView>(`/api/v1/traces/${encodeURIComponent(id)}`)));
    } catch (e) {
      root.append(errorBox(e));
    }
  }
  const { traces } = await api<{ traces: TraceSummary[] }>('/api/v1/traces?limit=30');
  root.append(h('section', { class: 'card' }, h('h2', {}, 'Recent traces'), traces.length === 0 ? empty('No traces yet.') :
    h('table', { class: 'table', id: 'recent-traces' },
      h('thead', {}, h('tr', {}, ...['Root span', 'Services', 'Spans', 'Duration', 'Status', 'When'].map((c) => h('th', {}, c)))),
      h('tbody', {}, ...traces.map((t) => h('tr', {},
        h('td', {}, h('a', { href: `#/traces/${t.traceId}`, class: 'trace-link' }, t.root.name)),
        h('td', { class: 'small' }, t.services.join(', ')),
        h('td', {}, String(t.spanCount)),
        h('td', {}, ms(t.durationMs)),
        h('td', {}, h('span', { class: `badge ${t.error ? 'status-open' : 'ok'}` }, t.error ? 'error' : String(t.root.status))),
        h('td', { class: 'muted' }, ago(t.startMs))))))));
}

function flatten(roots: SpanNode[], depth = 0, out: Array<{ s: SpanNode; depth: number }> = []): Array<{ s: SpanNode; depth: number }> {
  for (const s of roots) {
    out.push({ s, depth });
    flatten(s.children, depth + 1, out);
  }
  return out;
}

function waterfall(trace: TraceView): HTMLElement {
  const rows = flatten(trace.roots);
  const total = Math.max(trace.durationMs, 0.001);
  return h('section', { class: 'card waterfall', id: 'waterfall' },
    h('div', { class: 'wf-head' }, h('h2', {}, `Trace ${trace.traceId}`), h('span', { class: 'muted' }, `${ms(trace.durationMs)} · ${trace.spanCount} spans · ${trace.services.join(', ')}`)),
    h('div', { class: 'wf-rows' }, ...rows.map(({ s, depth }) => {
      const left = ((s.startMs - trace.startMs) / total) * 100;
      const width = Math.max((s.durationMs / total) * 100, 0.4);
      const flags = s.responseFlags && s.responseFlags !== '-' ? h('span', { class: 'badge flag', title: 'Envoy response flags' }, s.responseFlags) : null;
      return h('div', { class: `wf-row${s.error ? ' error' : ''}`, 'data-span': s.spanId },
        h('div', { class: 'wf-label', style: `padding-left:${depth * 14 + 6}px` },
          h('span', { class: `kind kind-${s.kind.toLowerCase()}` }, s.kind === 'CLIENT' ? 'out' : 'in'), ' ', h('strong', {}, s.service), h('span', { class: 'muted' }, ` ${s.name}`)),
        h('div', { class: 'wf-track' }, h('div', { class: 'wf-bar', style: `left:${left}%;width:${width}%` }), h('span', { class: 'wf-time', style: `left:${Math.min(left + width, 88)}%` }, ms(s.durationMs))),
        h('div', { class: 'wf-status' }, h('span', { class: `badge ${s.error ? 'status-open' : 'ok'}` }, String(s.status)), flags));
    })));
}
