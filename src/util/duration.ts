// Istio durations as written in YAML (`10s`, `1.5s`, `100ms`, `1m30s`, `1h`) in milliseconds: one
// parser for the control plane and the proxy (both read durations from the same config).

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, 'µs': 0.001, ns: 0.000001 };
const PART = /(\d+(?:\.\d*)?|\.\d+)(h|ms|m|s|us|µs|ns)/gy;

/** Milliseconds, or undefined when the text is not a duration (validation has rejected those before). */
export function durationMs(text: unknown): number | undefined {
  if (typeof text !== 'string' || text === '') return undefined;
  PART.lastIndex = 0;
  let total = 0;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = PART.exec(text))) {
    total += Number(m[1]) * UNIT_MS[m[2]];
    end = PART.lastIndex;
  }
  return end === text.length ? total : undefined;
}
