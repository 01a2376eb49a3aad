import { decodeChunk, deltaFits, XorChunkWriter, type EncodedChunk } from './xor-chunk.js';

// One resolution of one series: sealed compressed chunks plus the open chunk, compressed as
// samples arrive (so a series costs its compressed bytes, not a buffer of raw samples).

/** Samples per chunk at scrape resolution (2 minutes at 1 s), as Prometheus's head chunks. */
export const CHUNK_SAMPLES = 120;

export class SampleTier {
  private chunks: EncodedChunk[] = [];
  private head: XorChunkWriter | null = null;

  /** `chunkSamples`: retention drops whole chunks, so coarse tiers use shorter ones. */
  constructor(private readonly chunkSamples = CHUNK_SAMPLES) {}

  get lastT(): number {
    if (this.head) return this.head.maxT;
    const c = this.chunks[this.chunks.length - 1];
    return c ? c.maxT : -Infinity;
  }

  get firstT(): number {
    if (this.chunks.length > 0) return this.chunks[0].minT;
    return this.head ? this.head.minT : Infinity;
  }

  get empty(): boolean {
    return !this.head && this.chunks.length === 0;
  }

  get sampleCount(): number {
    let n = this.head?.count ?? 0;
    for (const c of this.chunks) n += c.count;
    return n;
  }

  /** Bytes held: compressed chunks and the open chunk's buffer, with bookkeeping. */
  get bytes(): number {
    let b = this.head ? this.head.byteLength + WRITER_OVERHEAD : 0;
    for (const c of this.chunks) b += c.bytes.byteLength + CHUNK_OVERHEAD;
    return b;
  }

  /** Appends a sample; the caller guarantees t is an integer greater than lastT. */
  append(t: number, v: number): void {
    if (this.head && (this.head.count === this.chunkSamples || !deltaFits(t - this.head.maxT))) {
      this.chunks.push(this.head.seal());
      this.head = null;
    }
    // Sized for the whole chunk at ~2 bytes a sample; grows if the data compresses worse.
    this.head ??= new XorChunkWriter(Math.min(256, 16 + this.chunkSamples * 2));
    this.head.append(t, v);
  }

  /** Drops whole chunks that end before `t` (retention works at chunk granularity). */
  dropBefore(t: number): void {
    let i = 0;
    while (i < this.chunks.length && this.chunks[i].maxT < t) i++;
    if (i > 0) this.chunks.splice(0, i);
    if (this.chunks.length === 0 && this.head && this.head.maxT < t) this.head = null;
  }

  /** Pushes the samples with minT <= t <= maxT, in time order. */
  read(minT: number, maxT: number, outT: number[], outV: number[]): void {
    for (const c of this.chunks) {
      if (c.maxT < minT) continue;
      if (c.minT > maxT) return;
      readChunk(c, minT, maxT, outT, outV);
    }
    if (this.head && this.head.maxT >= minT && this.head.minT <= maxT) readChunk(this.head.view(), minT, maxT, outT, outV);
  }
}

function readChunk(c: EncodedChunk, minT: number, maxT: number, outT: number[], outV: number[]): void {
  const from = outT.length;
  decodeChunk(c, outT, outV);
  if (c.minT >= minT && c.maxT <= maxT) return;
  // Keep only the part inside [minT, maxT]: compact in place.
  let w = from;
  for (let r = from; r < outT.length; r++) {
    if (outT[r] < minT || outT[r] > maxT) continue;
    outT[w] = outT[r];
    outV[w] = outV[r];
    w++;
  }
  outT.length = w;
  outV.length = w;
}

/** Approximate bookkeeping per chunk (object, array slot, typed-array header) and per open writer. */
const CHUNK_OVERHEAD = 96;
const WRITER_OVERHEAD = 160;
