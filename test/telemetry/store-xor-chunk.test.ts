import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeChunk, encodeChunk } from '../../src/telemetry/store/xor-chunk.js';

// The compressed chunk encoding must give back exactly what went in, for any values.

function roundTrip(ts: number[], vs: number[]): { ts: number[]; vs: number[]; bytes: number } {
  const chunk = encodeChunk(ts, vs, ts.length);
  const outT: number[] = [];
  const outV: number[] = [];
  decodeChunk(chunk, outT, outV);
  return { ts: outT, vs: outV, bytes: chunk.bytes.byteLength };
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('xor chunk: special and extreme values survive bit for bit', () => {
  const vs = [0, -0, 1, -1, NaN, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, -Number.MAX_VALUE, 2 ** 53, 1e-300, 0.1, 0.1, 0.30000000000000004];
  const ts = vs.map((_, i) => 1_700_000_000_000 + i * 1000);
  const r = roundTrip(ts, vs);
  assert.deepEqual(r.ts, ts);
  assert.equal(r.vs.length, vs.length);
  r.vs.forEach((v, i) => assert.ok(Object.is(v, vs[i]), `value ${i}: ${v} vs ${vs[i]}`));
});

test('xor chunk: random timestamps gaps (every delta-of-delta bucket) and random values', () => {
  const rnd = seeded(42);
  for (let round = 0; round < 50; round++) {
    const n = 1 + Math.floor(rnd() * 120);
    const ts: number[] = [];
    const vs: number[] = [];
    let t = Math.floor(rnd() * 2e12);
    for (let i = 0; i < n; i++) {
      const kind = rnd();
      t += kind < 0.5 ? 1000 + Math.floor(rnd() * 10) : kind < 0.8 ? Math.floor(rnd() * 5000) + 1 : Math.floor(rnd() * 2 ** 29);
      ts.push(t);
      const vk = rnd();
      vs.push(vk < 0.3 ? (vs[i - 1] ?? 0) : vk < 0.6 ? Math.floor(rnd() * 1000) : (rnd() - 0.5) * 10 ** Math.floor(rnd() * 40 - 20));
    }
    const r = roundTrip(ts, vs);
    assert.deepEqual(r.ts, ts, `round ${round}`);
    r.vs.forEach((v, i) => assert.ok(Object.is(v, vs[i]), `round ${round} value ${i}`));
  }
});

test('xor chunk: a 1 s scrape of a growing counter costs 1-3 bytes a sample', () => {
  const counter = (jitterMs: number, perSecond: number) => {
    const rnd = seeded(7);
    const ts: number[] = [];
    const vs: number[] = [];
    let v = 12_345;
    for (let i = 0; i < 120; i++) {
      ts.push(1_700_000_000_000 + i * 1000 + Math.floor(rnd() * jitterMs));
      v += Math.floor(rnd() * 2 * perSecond);
      vs.push(v);
    }
    const r = roundTrip(ts, vs);
    assert.deepEqual(r.vs, vs);
    assert.deepEqual(r.ts, ts);
    return r.bytes / 120;
  };
  // The scraper stamps rounds with their scheduled time: regular timestamps cost a bit each.
  const aligned = counter(0, 100);
  assert.ok(aligned < 2.5, `${aligned} bytes per sample, aligned timestamps`);
  const jittered = counter(8, 100);
  assert.ok(jittered < 3.5, `${jittered} bytes per sample, timestamps jittered by up to 8 ms`);
  const slow = counter(0, 1);
  assert.ok(slow < 1.5, `${slow} bytes per sample, a counter growing by about one a second`);
  // An unchanged value (a histogram bucket nobody hits) costs about two bits.
  const ts = Array.from({ length: 120 }, (_, i) => i * 1000);
  const flat = roundTrip(ts, ts.map(() => 5));
  assert.ok(flat.bytes / 120 < 0.5, `${flat.bytes / 120} bytes per sample for a flat series`);
});
