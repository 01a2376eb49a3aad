import { seededRandom, type RandomSource } from '../../../util/seeded-random.js';

// Faults injected into a synthetic application by chaos (`meshmedic chaos inject latency|
// error-rate|cpu-burn`): added processing time, answers with an error status, and a busy loop
// that takes a share of a core (the event loop is blocked meanwhile, so every request waits,
// as in a process starved of CPU). They live inside the application on purpose: to the mesh
// they look exactly like a slow or failing service, with no response flag of the proxy.
//
// Several injections may touch one instance; each is kept under its injection id and they add
// up: latencies each draw and add, the first error drawn answers, CPU shares add (capped at one
// core). The set is replaced whole on every update (the mesh daemon sends the desired state).

export interface AppFault {
  latency?: { ms: number; percent: number };
  error?: { status: number; percent: number };
  /** Percent of one core kept busy. */
  cpu?: { percent: number };
}

export type AppFaultSet = Record<string, AppFault>;

/** The busy loop runs in slices of this period: busy for `percent` of it, then idle. */
const CPU_PERIOD_MS = 100;
const MAX_LATENCY_MS = 600_000;

export class AppFaultError extends Error {}

/** Checks a fault set received over the control channel; throws AppFaultError with what is wrong. */
export function validateFaultSet(value: unknown): AppFaultSet {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new AppFaultError('faults must be an object keyed by injection id');
  const out: AppFaultSet = {};
  for (const [id, f] of Object.entries(value as Record<string, unknown>)) {
    if (!f || typeof f !== 'object') throw new AppFaultError(`faults.${id} must be an object`);
    const { latency, error, cpu } = f as AppFault;
    const fault: AppFault = {};
    if (latency !== undefined) {
      number(latency?.ms, 0, MAX_LATENCY_MS, `faults.${id}.latency.ms`);
      number(latency?.percent, 0, 100, `faults.${id}.latency.percent`);
      fault.latency = { ms: latency.ms, percent: latency.percent };
    }
    if (error !== undefined) {
      number(error?.status, 400, 599, `faults.${id}.error.status`);
      if (!Number.isInteger(error.status)) throw new AppFaultError(`faults.${id}.error.status must be a whole number`);
      number(error?.percent, 0, 100, `faults.${id}.error.percent`);
      fault.error = { status: error.status, percent: error.percent };
    }
    if (cpu !== undefined) {
      number(cpu?.percent, 1, 100, `faults.${id}.cpu.percent`);
      fault.cpu = { percent: cpu.percent };
    }
    out[id] = fault;
  }
  return out;
}

function number(v: unknown, min: number, max: number, field: string): asserts v is number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new AppFaultError(`${field} must be a number within ${min}..${max}, got ${JSON.stringify(v)}`);
}

export class WorkloadFaults {
  private set: AppFaultSet = {};
  private latencies: Array<{ ms: number; percent: number }> = [];
  private errors: Array<{ status: number; percent: number }> = [];
  private cpuPercent = 0;
  private burner?: NodeJS.Timeout;
  private readonly random: RandomSource;

  /** A random stream of its own, so the application's own draws (errorRate, latency) stay as they were. */
  constructor(seed: number) {
    this.random = seededRandom((seed ^ 0x5eed5eed) >>> 0);
  }

  /** True when any fault is in force: the request path checks this one field otherwise. */
  active = false;

  get current(): AppFaultSet {
    return structuredClone(this.set);
  }

  replace(set: AppFaultSet): void {
    this.set = structuredClone(set);
    const all = Object.values(this.set);
    this.latencies = all.flatMap((f) => (f.latency && f.latency.ms > 0 ? [f.latency] : []));
    this.errors = all.flatMap((f) => (f.error ? [f.error] : []));
    this.cpuPercent = Math.min(100, all.reduce((s, f) => s + (f.cpu?.percent ?? 0), 0));
    this.active = this.latencies.length > 0 || this.errors.length > 0;
    this.scheduleBurn();
  }

  /** Added time for this request: each latency fault draws on its own. */
  delayMs(): number {
    let ms = 0;
    for (const l of this.latencies) if (this.drawn(l.percent)) ms += l.ms;
    return ms;
  }

  /** The status to answer instead of serving, or 0. */
  errorStatus(): number {
    for (const e of this.errors) if (this.drawn(e.percent)) return e.status;
    return 0;
  }

  close(): void {
    if (this.burner) clearTimeout(this.burner);
    this.burner = undefined;
    this.cpuPercent = 0;
  }

  private drawn(percent: number): boolean {
    return percent >= 100 || (percent > 0 && this.random() * 100 < percent);
  }

  private scheduleBurn(): void {
    if (this.cpuPercent <= 0 || this.burner) return;
    const slice = () => {
      this.burner = undefined;
      if (this.cpuPercent <= 0) return;
      const busyMs = (CPU_PERIOD_MS * this.cpuPercent) / 100;
      const end = performance.now() + busyMs;
      // Deliberately synchronous: a process short of CPU serves nothing while it spins.
      while (performance.now() < end) {
        /* spin */
      }
      this.burner = setTimeout(slice, Math.max(0, CPU_PERIOD_MS - busyMs));
    };
    this.burner = setTimeout(slice, 0);
  }
}
