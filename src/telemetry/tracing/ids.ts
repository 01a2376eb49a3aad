import { randomFillSync } from 'node:crypto';

// Trace and span ids: random, never zero (both W3C and B3 reject all-zero ids). Drawn from a
// pool of random bytes refilled 4 KiB at a time, so a sampled request does not pay for a call
// into the crypto library per id. Not the sidecar's injected random source: ids need no
// determinism, and drawing from it would shift the sequences that tests of load balancing and
// weights rely on.

const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hexBytes(n: number): string {
  if (offset + n > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  let out = '';
  let zero = true;
  for (let i = 0; i < n; i++) {
    const b = pool[offset++];
    if (b !== 0) zero = false;
    out += HEX[b];
  }
  return zero ? hexBytes(n) : out;
}

/** A new 128-bit trace id: 32 lower-case hex digits (Istio asks Envoy for 128-bit trace ids). */
export function newTraceId(): string {
  return hexBytes(16);
}

/** A new 64-bit span id: 16 lower-case hex digits. */
export function newSpanId(): string {
  return hexBytes(8);
}

/** A 64-bit (16 digits) or 128-bit (32 digits) id as a 32-digit trace id, as OpenTelemetry's B3 propagator pads it. */
export function paddedTraceId(id: string): string {
  return id.length === 32 ? id : id.padStart(32, '0');
}

/** True when `s` is exactly `len` hex digits (either case) and not all zeros. */
export function isHexId(s: string, len: number): boolean {
  if (s.length !== len) return false;
  let nonZero = false;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    const hex = (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
    if (!hex) return false;
    if (c !== 48) nonZero = true;
  }
  return nonZero;
}
