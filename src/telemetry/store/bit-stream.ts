// Bit-level writer and reader for the chunk encoding (xor-chunk.ts). Values go in and come out
// as unsigned 32-bit pieces, most significant bit first.

export class BitWriter {
  private buf: Uint8Array;
  private bitPos = 0;

  constructor(initialBytes = 256) {
    this.buf = new Uint8Array(initialBytes);
  }

  /** Writes the low `n` bits of `value` (0 <= n <= 32). */
  write(value: number, n: number): void {
    if (n === 0) return;
    this.ensure(n);
    for (let remaining = n; remaining > 0; ) {
      const byte = this.bitPos >>> 3;
      const free = 8 - (this.bitPos & 7);
      const take = Math.min(free, remaining);
      // The `take` bits of value just below bit `remaining`.
      const bits = (remaining === 32 && take === 32 ? value : (value >>> (remaining - take)) & ((1 << take) - 1)) & 0xff;
      this.buf[byte] |= bits << (free - take);
      this.bitPos += take;
      remaining -= take;
    }
  }

  writeBit(bit: number): void {
    this.ensure(1);
    if (bit) this.buf[this.bitPos >>> 3] |= 0x80 >>> (this.bitPos & 7);
    this.bitPos++;
  }

  /** The bytes written so far (a copy, exactly as long as needed). */
  bytes(): Uint8Array {
    return this.buf.slice(0, (this.bitPos + 7) >>> 3);
  }

  /** The live buffer, for reading while writing continues (bits past the written ones are zero). */
  get buffer(): Uint8Array {
    return this.buf;
  }

  get capacity(): number {
    return this.buf.byteLength;
  }

  private ensure(bits: number): void {
    const need = (this.bitPos + bits + 7) >>> 3;
    if (need <= this.buf.length) return;
    const next = new Uint8Array(Math.max(need, this.buf.length * 2));
    next.set(this.buf);
    this.buf = next;
  }
}

export class BitReader {
  private bitPos = 0;

  constructor(private readonly buf: Uint8Array) {}

  /** Reads `n` bits (0 <= n <= 32) as an unsigned number. */
  read(n: number): number {
    let out = 0;
    for (let remaining = n; remaining > 0; ) {
      const byte = this.buf[this.bitPos >>> 3];
      const avail = 8 - (this.bitPos & 7);
      const take = Math.min(avail, remaining);
      const bits = (byte >>> (avail - take)) & ((1 << take) - 1);
      out = out * (1 << take) + bits; // multiplication, not shift: stays unsigned for n = 32
      this.bitPos += take;
      remaining -= take;
    }
    return out;
  }

  readBit(): number {
    const bit = (this.buf[this.bitPos >>> 3] >>> (7 - (this.bitPos & 7))) & 1;
    this.bitPos++;
    return bit;
  }
}
