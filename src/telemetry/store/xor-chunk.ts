import { BitReader, BitWriter } from './bit-stream.js';

// Chunks use Gorilla's encoding (Facebook's in-memory TSDB, also Prometheus's XOR chunk):
// timestamps as delta-of-delta in variable-width buckets, values as the XOR with the previous
// value, storing only the meaningful bits. Scrapes every second give constant deltas and
// counters that change little or not at all, so a sample costs 1-3 bytes instead of 16.
// Samples are encoded as they arrive (no uncompressed buffer per series), and the open chunk
// can be read while it grows.

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer); // [low, high] on little-endian hosts (every Node target)
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('xor-chunk: big-endian hosts are not supported');

/** Bucketed delta-of-delta widths (after a prefix of 1s ending in 0): value range [-(2^(w-1)-1), 2^(w-1)]. */
const DOD_WIDTHS = [7, 9, 12];

export interface EncodedChunk {
  bytes: Uint8Array;
  count: number;
  minT: number;
  maxT: number;
}

/** True when `delta` between two timestamps can be stored in one chunk (the widest bucket is int32). */
export function deltaFits(delta: number): boolean {
  return delta <= 0x3fffffff && delta >= 0;
}

export class XorChunkWriter {
  private readonly w: BitWriter;
  count = 0;
  minT = NaN;
  maxT = NaN;
  private prevDelta = 0;
  private prevHi = 0;
  private prevLo = 0;
  private leading = -1;
  private trailing = 0;

  constructor(initialBytes = 32) {
    this.w = new BitWriter(initialBytes);
  }

  /** Bytes held (the buffer's capacity). */
  get byteLength(): number {
    return this.w.capacity;
  }

  /** Appends a sample; t must be an integer, greater than the last, by less than 2^30 ms. */
  append(t: number, v: number): void {
    const w = this.w;
    f64[0] = v;
    const hi = u32[1];
    const lo = u32[0];
    if (this.count === 0) {
      f64[0] = t;
      w.write(u32[1], 32);
      w.write(u32[0], 32);
      w.write(hi, 32);
      w.write(lo, 32);
      this.minT = t;
    } else {
      const delta = t - this.maxT;
      writeDod(w, delta - this.prevDelta);
      this.prevDelta = delta;
      this.writeValue(hi, lo);
    }
    this.prevHi = hi;
    this.prevLo = lo;
    this.maxT = t;
    this.count++;
  }

  /** The open chunk for reading (shares the live buffer). */
  view(): EncodedChunk {
    return { bytes: this.w.buffer, count: this.count, minT: this.minT, maxT: this.maxT };
  }

  /** The finished chunk, in a buffer exactly as long as needed. */
  seal(): EncodedChunk {
    return { bytes: this.w.bytes(), count: this.count, minT: this.minT, maxT: this.maxT };
  }

  private writeValue(hi: number, lo: number): void {
    const w = this.w;
    const xHi = (hi ^ this.prevHi) >>> 0;
    const xLo = (lo ^ this.prevLo) >>> 0;
    if (xHi === 0 && xLo === 0) {
      w.writeBit(0);
      return;
    }
    w.writeBit(1);
    const lz = Math.min(31, xHi !== 0 ? Math.clz32(xHi) : 32 + Math.clz32(xLo));
    const tz = xLo !== 0 ? ctz32(xLo) : 32 + ctz32(xHi);
    if (this.leading >= 0 && lz >= this.leading && tz >= this.trailing) {
      // The meaningful bits fit the previous window: no need to say where they are.
      w.writeBit(0);
      writeMeaningful(w, xHi, xLo, this.trailing, 64 - this.leading - this.trailing);
    } else {
      this.leading = lz;
      this.trailing = tz;
      const bits = 64 - lz - tz;
      w.writeBit(1);
      w.write(lz, 5);
      w.write(bits & 63, 6); // 64 is stored as 0
      writeMeaningful(w, xHi, xLo, tz, bits);
    }
  }
}

export function encodeChunk(ts: ArrayLike<number>, vs: ArrayLike<number>, count: number): EncodedChunk {
  if (count === 0) throw new Error('encodeChunk: empty chunk');
  const w = new XorChunkWriter(Math.max(32, count * 3));
  for (let i = 0; i < count; i++) w.append(ts[i], vs[i]);
  return w.seal();
}

/** Decodes every sample of the chunk into the arrays (pushed at their end). */
export function decodeChunk(chunk: EncodedChunk, outT: number[], outV: number[]): void {
  if (chunk.count === 0) return;
  const r = new BitReader(chunk.bytes);
  u32[1] = r.read(32);
  u32[0] = r.read(32);
  let t = f64[0];
  let hi = r.read(32);
  let lo = r.read(32);
  u32[1] = hi;
  u32[0] = lo;
  outT.push(t);
  outV.push(f64[0]);
  let delta = 0;
  let leading = 0;
  let trailing = 0;
  for (let i = 1; i < chunk.count; i++) {
    delta += readDod(r);
    t += delta;
    if (r.readBit() === 1) {
      if (r.readBit() === 1) {
        leading = r.read(5);
        const bits = r.read(6) || 64;
        trailing = 64 - leading - bits;
      }
      const bits = 64 - leading - trailing;
      // Read the meaningful bits (at most 64) as high and low parts, then shift them into place.
      let mHi = 0;
      let mLo: number;
      if (bits > 32) {
        mHi = r.read(bits - 32);
        mLo = r.read(32);
      } else mLo = r.read(bits);
      const [xHi, xLo] = shiftLeft64(mHi, mLo, trailing);
      hi = (hi ^ xHi) >>> 0;
      lo = (lo ^ xLo) >>> 0;
    }
    u32[1] = hi;
    u32[0] = lo;
    outT.push(t);
    outV.push(f64[0]);
  }
}

function writeDod(w: BitWriter, dod: number): void {
  if (dod === 0) {
    w.writeBit(0);
    return;
  }
  for (let b = 0; b < DOD_WIDTHS.length; b++) {
    const width = DOD_WIDTHS[b];
    const bias = (1 << (width - 1)) - 1;
    if (dod >= -bias && dod <= bias + 1) {
      w.write((1 << (b + 2)) - 2, b + 2); // b+1 ones then a zero
      w.write(dod + bias, width);
      return;
    }
  }
  w.write(0b1111, 4);
  w.write(dod | 0, 32);
}

function readDod(r: BitReader): number {
  if (r.readBit() === 0) return 0;
  for (let b = 0; b < DOD_WIDTHS.length; b++) {
    if (r.readBit() === 0) {
      const width = DOD_WIDTHS[b];
      return r.read(width) - ((1 << (width - 1)) - 1);
    }
  }
  return r.read(32) | 0;
}

function writeMeaningful(w: BitWriter, xHi: number, xLo: number, shift: number, bits: number): void {
  const [mHi, mLo] = shiftRight64(xHi, xLo, shift);
  if (bits > 32) {
    w.write(mHi, bits - 32);
    w.write(mLo, 32);
  } else w.write(mLo, bits);
}

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

function shiftRight64(hi: number, lo: number, s: number): [number, number] {
  if (s === 0) return [hi, lo];
  if (s >= 32) return [0, s >= 64 ? 0 : hi >>> (s - 32)];
  return [hi >>> s, ((lo >>> s) | (hi << (32 - s))) >>> 0];
}

function shiftLeft64(hi: number, lo: number, s: number): [number, number] {
  if (s === 0) return [hi, lo];
  if (s >= 32) return [s >= 64 ? 0 : (lo << (s - 32)) >>> 0, 0];
  return [((hi << s) | (lo >>> (32 - s))) >>> 0, (lo << s) >>> 0];
}
