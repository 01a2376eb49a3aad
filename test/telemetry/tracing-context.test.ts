import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, test } from 'node:test';
import type { ProxyNode, Route } from '../../src/api/snapshot.js';
import { isHexId, newSpanId, newTraceId, paddedTraceId } from '../../src/telemetry/tracing/ids.js';
import { localDecision, requestIdInteger, samplingThreshold } from '../../src/telemetry/tracing/sampling.js';
import { routeOperation, unroutedOperation } from '../../src/telemetry/tracing/span-names.js';
import { canonicalRevision, canonicalService } from '../../src/telemetry/tracing/span-origin.js';
import { injectContext, MALFORMED, markNotSampled, NOT_SAMPLED, parentContext, SAMPLED, sampledFlag, UNDECIDED, validTraceparent } from '../../src/telemetry/tracing/trace-context.js';

// The pieces of trace propagation without a network: reading B3 (single and multi) and W3C
// headers, the sampling decision (the headers', else Envoy's own by request id), writing the
// context back consistently, and Istio's span names.

const T32 = '4bf92f3577b34da6a3ce929d0e0e4736';
const T16 = 'a3ce929d0e0e4736';
const S = '00f067aa0ba902b7';
const P = 'e457b5a2e4d86bd1';

describe('sampled flag: B3 first, W3C as fallback', () => {
  const cases: Array<[string, IncomingHttpHeaders, number]> = [
    ['no trace headers', {}, UNDECIDED],
    ['x-b3-sampled 1', { 'x-b3-sampled': '1' }, SAMPLED],
    ['x-b3-sampled true (old tracers)', { 'x-b3-sampled': 'true' }, SAMPLED],
    ['x-b3-sampled 0', { 'x-b3-sampled': '0' }, NOT_SAMPLED],
    ['x-b3-flags 1 (debug implies accept)', { 'x-b3-flags': '1', 'x-b3-sampled': '0' }, SAMPLED],
    ['b3 single: just the flag', { b3: '1' }, SAMPLED],
    ['b3 single: deny', { b3: '0' }, NOT_SAMPLED],
    ['b3 single: debug', { b3: 'd' }, SAMPLED],
    ['b3 single, 128-bit, sampled', { b3: `${T32}-${S}-1` }, SAMPLED],
    ['b3 single, 64-bit with parent, deny', { b3: `${T16}-${S}-0-${P}` }, NOT_SAMPLED],
    ['b3 single without a flag defers', { b3: `${T32}-${S}` }, UNDECIDED],
    ['b3 single wins over x-b3-sampled', { b3: `${T32}-${S}-0`, 'x-b3-sampled': '1' }, NOT_SAMPLED],
    ['traceparent sampled', { traceparent: `00-${T32}-${S}-01` }, SAMPLED],
    ['traceparent not sampled', { traceparent: `00-${T32}-${S}-00` }, NOT_SAMPLED],
    ['traceparent with other flag bits set', { traceparent: `00-${T32}-${S}-03` }, SAMPLED],
    ['B3 wins over traceparent', { 'x-b3-sampled': '0', traceparent: `00-${T32}-${S}-01` }, NOT_SAMPLED],
    ['an invalid traceparent is ignored', { traceparent: `00-${T32.toUpperCase()}-${S}-01` }, UNDECIDED],
  ];
  for (const [name, headers, want] of cases) test(name, () => assert.equal(sampledFlag(headers), want));
});

describe('parent context', () => {
  test('B3 multi, 128-bit and 64-bit, upper case accepted and lowered', () => {
    assert.deepEqual(parentContext({ 'x-b3-traceid': T32.toUpperCase(), 'x-b3-spanid': S }), { traceId: T32, spanId: S, debug: false });
    assert.deepEqual(parentContext({ 'x-b3-traceid': T16, 'x-b3-spanid': S, 'x-b3-flags': '1' }), { traceId: T16, spanId: S, debug: true });
  });
  test('B3 single with parent and debug flag', () => {
    assert.deepEqual(parentContext({ b3: `${T32}-${S}-d-${P}` }), { traceId: T32, spanId: S, debug: true });
    assert.equal(parentContext({ b3: '1' }), null);
  });
  test('W3C traceparent when there is no B3', () => {
    assert.deepEqual(parentContext({ traceparent: `00-${T32}-${S}-01` }), { traceId: T32, spanId: S, debug: false });
    // A later version may append fields.
    assert.deepEqual(parentContext({ traceparent: `01-${T32}-${S}-01-extra` }), { traceId: T32, spanId: S, debug: false });
  });
  test('B3 wins over W3C when both are there', () => {
    assert.equal((parentContext({ 'x-b3-traceid': T16, 'x-b3-spanid': P, traceparent: `00-${T32}-${S}-01` }) as { spanId: string }).spanId, P);
  });
  test('malformed B3 is MALFORMED (Envoy traces nothing); malformed W3C starts a new trace', () => {
    assert.equal(parentContext({ 'x-b3-traceid': 'xyz', 'x-b3-spanid': S }), MALFORMED);
    assert.equal(parentContext({ 'x-b3-traceid': T32, 'x-b3-spanid': '0000000000000000' }), MALFORMED);
    assert.equal(parentContext({ b3: `${T32}-${S}-x` }), MALFORMED);
    assert.equal(parentContext({ b3: `${T32}-${S}-1-${P}-more` }), MALFORMED);
    assert.equal(parentContext({ b3: 'q' }), MALFORMED);
    assert.equal(parentContext({ traceparent: `00-${'0'.repeat(32)}-${S}-01` }), null);
    assert.equal(parentContext({ 'x-b3-traceid': T32 }), null); // no span id: no context (Envoy needs both)
  });
  test('traceparent validation follows W3C Trace Context', () => {
    assert.equal(validTraceparent(`00-${T32}-${S}-01`), true);
    assert.equal(validTraceparent(`ff-${T32}-${S}-01`), false); // version ff is invalid
    assert.equal(validTraceparent(`00-${T32}-${S}-01-x`), false); // version 00 has exactly 4 fields
    assert.equal(validTraceparent(`00-${T32}-${'0'.repeat(16)}-01`), false);
    assert.equal(validTraceparent(`00_${T32}-${S}-01`), false);
  });
});

describe('writing the context', () => {
  test('B3 multi and W3C carry the same ids; tracestate is untouched', () => {
    const h: IncomingHttpHeaders = { 'x-b3-parentspanid': 'ffffffffffffffff', tracestate: 'vendor=1' };
    injectContext(h, { traceId: T32, spanId: S, parentId: undefined, debug: false });
    assert.equal(h['x-b3-traceid'], T32);
    assert.equal(h['x-b3-spanid'], S);
    assert.equal(h['x-b3-parentspanid'], undefined); // a root span has no parent
    assert.equal(h['x-b3-sampled'], '1');
    assert.equal(h.traceparent, `00-${T32}-${S}-01`);
    assert.equal(h.tracestate, 'vendor=1');
    assert.equal(h.b3, undefined); // not added when the caller did not use it
  });
  test('a 64-bit trace id stays 64-bit in B3 and is padded in traceparent; b3 single is rewritten when present', () => {
    const h: IncomingHttpHeaders = { b3: `${T16}-${P}-d` };
    injectContext(h, { traceId: T16, spanId: S, parentId: P, debug: true });
    assert.equal(h['x-b3-traceid'], T16);
    assert.equal(h['x-b3-parentspanid'], P);
    assert.equal(h.b3, `${T16}-${S}-d-${P}`);
    assert.equal(h.traceparent, `00-${'0'.repeat(16)}${T16}-${S}-01`);
    // What was written reads back as the same context.
    assert.deepEqual(parentContext(h), { traceId: T16, spanId: S, debug: true });
    assert.equal(sampledFlag(h), SAMPLED);
  });
  test('a decision against sampling travels on', () => {
    const h: IncomingHttpHeaders = {};
    markNotSampled(h);
    assert.equal(sampledFlag(h), NOT_SAMPLED);
  });
});

describe('the proxy\'s own decision (Envoy: by x-request-id)', () => {
  test('the request id\'s first 8 hex digits modulo 10000 against the percentage in hundredths', () => {
    assert.equal(requestIdInteger('0000270f-0000-4000-8000-000000000000'), 9999);
    assert.equal(requestIdInteger('not-hex-at-all'), -1);
    assert.equal(requestIdInteger('abc'), -1);
    const at = (n: number) => ({ 'x-request-id': `${n.toString(16).padStart(8, '0')}-1111-4111-8111-111111111111` });
    const onePercent = samplingThreshold(1);
    assert.equal(onePercent, 100);
    assert.equal(localDecision(at(99), onePercent), true);
    assert.equal(localDecision(at(100), onePercent), false);
    assert.equal(localDecision(at(10_099), onePercent), true); // 10099 % 10000 = 99
    assert.equal(localDecision(at(5000), samplingThreshold(50.5)), true);
    assert.equal(localDecision(at(5050), samplingThreshold(50.5)), false);
  });
  test('defaults to Istio\'s 1%; 0 and 100 need no request id; force headers win', () => {
    assert.equal(samplingThreshold(undefined), 100);
    assert.equal(localDecision({}, samplingThreshold(100)), true);
    assert.equal(localDecision({ 'x-request-id': '00000000-0000' }, samplingThreshold(0)), false);
    assert.equal(localDecision({ 'x-envoy-force-trace': 'true' }, samplingThreshold(0)), true);
    assert.equal(localDecision({ 'x-client-trace-id': 'abc' }, samplingThreshold(0)), true);
    assert.equal(localDecision({ 'x-request-id': 'req-42' }, samplingThreshold(99)), false); // not a UUID: never randomly sampled
  });
});

describe('ids', () => {
  test('random, hex, never zero, of the right length', () => {
    const traces = new Set(Array.from({ length: 2000 }, newTraceId));
    assert.equal(traces.size, 2000);
    for (const t of traces) assert.ok(isHexId(t, 32), t);
    for (let i = 0; i < 2000; i++) assert.ok(isHexId(newSpanId(), 16));
    assert.equal(paddedTraceId(T16), `${'0'.repeat(16)}${T16}`);
  });
});

describe('span names (Istio\'s route operation)', () => {
  const node: ProxyNode = { id: 'pp-0.bookinfo', instance: 'pp-0', workload: 'pp', namespace: 'bookinfo', serviceAccount: 'default', labels: { app: 'productpage' }, address: '127.0.0.1' };
  const one = (match: Route['match']): Route => ({ name: 'r', match, action: { kind: 'route', destinations: [{ cluster: 'outbound|9080|v2|reviews.bookinfo.svc.cluster.local', weight: 100 }] }, origin: 'VirtualService bookinfo/reviews' });
  test('one destination: host and port from the cluster, path from the match', () => {
    assert.equal(routeOperation(one([]), -1, 9080, node), 'reviews.bookinfo.svc.cluster.local:9080/*');
    assert.equal(routeOperation(one([{ uri: { exact: '/productpage' } }]), 0, 9080, node), 'reviews.bookinfo.svc.cluster.local:9080/productpage');
    assert.equal(routeOperation(one([{ uri: { prefix: '/api/v1' } }]), 0, 9080, node), 'reviews.bookinfo.svc.cluster.local:9080/api/v1*');
    assert.equal(routeOperation(one([{ uri: { regex: '/r/[0-9]+' } }]), 0, 9080, node), 'reviews.bookinfo.svc.cluster.local:9080/r/[0-9]+');
    assert.equal(routeOperation(one([{ headers: { 'end-user': { exact: 'jason' } } }]), 0, 9080, node), 'reviews.bookinfo.svc.cluster.local:9080/*');
  });
  test('several destinations: the VirtualService name and the port', () => {
    const split: Route = { ...one([]), action: { kind: 'route', destinations: [{ cluster: 'outbound|9080|v1|reviews.bookinfo.svc.cluster.local', weight: 90 }, { cluster: 'outbound|9080|v3|reviews.bookinfo.svc.cluster.local', weight: 10 }] } };
    assert.equal(routeOperation(split, -1, 9080, node), 'reviews:9080/*');
  });
  test('the match index counts only the alternatives this proxy keeps (source conditions)', () => {
    const r = one([{ uri: { exact: '/other' }, sourceLabels: { app: 'nobody' } }, { uri: { exact: '/mine' } }]);
    assert.equal(routeOperation(r, 0, 9080, node), 'reviews.bookinfo.svc.cluster.local:9080/mine');
  });
  test('unrouted requests and canonical names', () => {
    assert.equal(unroutedOperation('nowhere.test:8080', 8080), 'nowhere.test:8080/*');
    assert.equal(canonicalService({ 'service.istio.io/canonical-name': 'c', app: 'a' }, 'w'), 'c');
    assert.equal(canonicalService({ app: 'a' }, 'w'), 'a');
    assert.equal(canonicalService({}, 'w'), 'w');
    assert.equal(canonicalRevision({ version: 'v2' }), 'v2');
  });
});
