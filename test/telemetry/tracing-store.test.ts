import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Span } from '../../src/telemetry/tracing/span.js';
import { spanProblem } from '../../src/telemetry/tracing/span.js';
import { TraceStore } from '../../src/telemetry/tracing/trace-store.js';
import { flattenTree, traceView } from '../../src/telemetry/tracing/trace-tree.js';

// The control plane's trace store: spans become trees, memory stays within its bounds (oldest
// traces out first, everything counted), retention runs on the injected clock, and queries by
// service return the newest traces first.

const trace = (n: number) => n.toString(16).padStart(32, '0');
const span = (n: number) => n.toString(16).padStart(16, '0');

function mk(traceN: number, spanN: number, parentN: number | undefined, extra: Partial<Span> = {}): Span {
  const s: Span = {
    traceId: trace(traceN), spanId: span(spanN), name: `op-${spanN}`, kind: 'SERVER', startMs: 1000 + spanN, durationMs: 10,
    service: 'svc', workload: 'svc-v1', namespace: 'ns', instance: 'svc-v1-0', method: 'GET', url: 'http://svc/', protocol: 'HTTP/1.1',
    requestId: 'r', status: 200, responseFlags: '-', requestBytes: 0, responseBytes: 0, error: false, component: 'proxy', ...extra,
  };
  if (parentN !== undefined) s.parentId = span(parentN);
  return s;
}

describe('trace tree', () => {
  test('children under their parent, ordered by start; extent, services and error over all spans', () => {
    const spans = [
      mk(1, 4, 2, { startMs: 1005, durationMs: 3, service: 'ratings', error: true, status: 503 }),
      mk(1, 2, 1, { startMs: 1002, durationMs: 10, kind: 'CLIENT' }),
      mk(1, 1, undefined, { startMs: 1000, durationMs: 20, service: 'productpage' }),
      mk(1, 3, 1, { startMs: 1001, durationMs: 1, kind: 'CLIENT' }),
    ];
    const v = traceView(trace(1), spans);
    assert.equal(v.roots.length, 1);
    assert.equal(v.roots[0].spanId, span(1));
    assert.deepEqual(v.roots[0].children.map((c) => c.spanId), [span(3), span(2)]);
    assert.deepEqual(v.roots[0].children[1].children.map((c) => c.spanId), [span(4)]);
    assert.deepEqual([v.startMs, v.durationMs, v.spanCount, v.error], [1000, 20, 4, true]);
    assert.deepEqual(v.services, ['productpage.ns', 'ratings.ns', 'svc.ns']);
    assert.deepEqual(flattenTree(v.roots).map((x) => [x.node.spanId, x.depth]), [[span(1), 0], [span(3), 1], [span(2), 1], [span(4), 2]]);
  });

  test('a span whose parent never arrived is a root; a parent loop is cut so every span shows', () => {
    const orphan = traceView(trace(2), [mk(2, 1, undefined), mk(2, 7, 99)]);
    assert.deepEqual(orphan.roots.map((r) => r.spanId), [span(1), span(7)]);
    const loop = traceView(trace(3), [mk(3, 1, 2), mk(3, 2, 1)]);
    assert.equal(flattenTree(loop.roots).length, 2);
  });
});

describe('trace store', () => {
  test('a trace by id, as a tree; unknown ids are undefined; ids are case-insensitive', () => {
    const store = new TraceStore({ clock: { now: () => 0 } });
    assert.equal(store.add([mk(1, 1, undefined), mk(1, 2, 1)]).length, 2);
    assert.equal(store.trace(trace(1).toUpperCase())?.roots[0].children[0].spanId, span(2));
    assert.equal(store.trace(trace(9)), undefined);
  });

  test('duplicates and spans over the per-trace bound are refused and counted', () => {
    const store = new TraceStore({ clock: { now: () => 0 }, maxSpansPerTrace: 3 });
    const kept = store.add([mk(1, 1, undefined), mk(1, 1, undefined), mk(1, 2, 1), mk(1, 3, 1), mk(1, 4, 1)]);
    assert.deepEqual(kept.map((s) => s.spanId), [span(1), span(2), span(3)]);
    assert.deepEqual(store.stats(), { traces: 1, spans: 3, tracesEvicted: 0, spansEvicted: 0, spansRefused: 2 });
  });

  test('max traces: the least recently updated trace goes first', () => {
    const store = new TraceStore({ clock: { now: () => 0 }, maxTraces: 2 });
    store.add([mk(1, 1, undefined)]);
    store.add([mk(2, 1, undefined)]);
    store.add([mk(1, 2, 1)]); // trace 1 is updated: trace 2 is now the oldest
    store.add([mk(3, 1, undefined)]);
    assert.ok(store.trace(trace(1)));
    assert.equal(store.trace(trace(2)), undefined);
    assert.ok(store.trace(trace(3)));
    assert.deepEqual(store.stats(), { traces: 2, spans: 3, tracesEvicted: 1, spansEvicted: 1, spansRefused: 0 });
  });

  test('max spans bounds memory whatever the traffic; evictions are counted', () => {
    const store = new TraceStore({ clock: { now: () => 0 }, maxSpans: 1000, maxTraces: 1_000_000 });
    for (let t = 1; t <= 5000; t++) store.add([mk(t, 1, undefined), mk(t, 2, 1), mk(t, 3, 1)]);
    const st = store.stats();
    assert.ok(st.spans <= 1000, `${st.spans} spans kept`);
    assert.equal(st.spans + st.spansEvicted, 15000);
    assert.equal(st.traces + st.tracesEvicted, 5000);
    assert.ok(store.trace(trace(5000)), 'the newest trace is kept');
    assert.equal(store.trace(trace(1)), undefined);
  });

  test('retention: traces whose last span arrived longer ago than retentionMs are gone', () => {
    let now = 0;
    const store = new TraceStore({ clock: { now: () => now }, retentionMs: 60_000 });
    store.add([mk(1, 1, undefined)]);
    now = 30_000;
    store.add([mk(2, 1, undefined)]);
    now = 59_000;
    store.add([mk(1, 2, 1)]); // keeps trace 1 alive
    now = 95_000;
    assert.ok(store.trace(trace(1)));
    assert.equal(store.trace(trace(2)), undefined);
    now = 200_000;
    assert.deepEqual(store.recent({}), []);
    assert.equal(store.stats().tracesEvicted, 2);
  });

  test('recent traces by service and namespace: newest first, with the root span, duration and error flag', () => {
    const store = new TraceStore({ clock: { now: () => 0 } });
    store.add([mk(1, 1, undefined, { service: 'productpage', startMs: 100, durationMs: 50 }), mk(1, 2, 1, { service: 'reviews', startMs: 110, durationMs: 20, error: true, status: 503, responseFlags: 'UF' })]);
    store.add([mk(2, 1, undefined, { service: 'productpage', startMs: 300 }), mk(2, 2, 1, { service: 'details', startMs: 305 })]);
    store.add([mk(3, 1, undefined, { service: 'reviews', namespace: 'other', startMs: 200 })]);
    assert.deepEqual(store.recent({ service: 'productpage' }).map((t) => t.traceId), [trace(2), trace(1)]);
    assert.deepEqual(store.recent({ service: 'reviews' }).map((t) => t.traceId), [trace(3), trace(1)]);
    assert.deepEqual(store.recent({ service: 'reviews', namespace: 'ns' }).map((t) => t.traceId), [trace(1)]);
    assert.deepEqual(store.recent({ namespace: 'other' }).map((t) => t.traceId), [trace(3)]);
    assert.deepEqual(store.recent({ errorsOnly: true }).map((t) => t.traceId), [trace(1)]);
    assert.deepEqual(store.recent({ sinceMs: 200 }).map((t) => t.traceId), [trace(2), trace(3)]);
    assert.deepEqual(store.recent({ limit: 1 }).map((t) => t.traceId), [trace(2)]);
    const [t1] = store.recent({ errorsOnly: true });
    assert.deepEqual([t1.root.service, t1.root.name, t1.durationMs, t1.spanCount, t1.error], ['productpage', 'op-1', 50, 2, true]);
    assert.deepEqual(t1.services, ['productpage.ns', 'reviews.ns']);
  });
});

describe('span validation (spans come from the network)', () => {
  test('well-formed spans pass; each kind of damage is named', () => {
    assert.equal(spanProblem(mk(1, 1, undefined)), null);
    assert.match(spanProblem({ ...mk(1, 1, undefined), traceId: 'abc' }) ?? '', /traceId/);
    assert.match(spanProblem({ ...mk(1, 1, undefined), traceId: '0'.repeat(32) }) ?? '', /traceId/);
    assert.match(spanProblem({ ...mk(1, 1, undefined), spanId: 'ABCDEF0123456789' }) ?? '', /spanId/);
    assert.match(spanProblem({ ...mk(1, 1, undefined), kind: 'PRODUCER' }) ?? '', /kind/);
    assert.match(spanProblem({ ...mk(1, 1, undefined), durationMs: -1 }) ?? '', /durationMs/);
    assert.match(spanProblem(null) ?? '', /object/);
  });
});
