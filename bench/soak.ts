import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool, request } from 'undici';
import { isAlive, StateDir } from '../src/platform/local/state-dir.js';
import type { Benchmark } from './registry.js';

// The control plane under steady traffic for a long time: bookinfo in the local mesh at a fixed
// request rate (default 200 rps for 20 minutes; `--size` sets the minutes), sampling the control
// plane's memory (RSS and V8 heap) and what its bounded stores hold (metric series and bytes,
// traces, spans) every 10 s. The control plane keeps 5 minutes of metrics at 1 s and of traces
// (`up --metrics-retention 5m --trace-retention 5m`), so its bounded stores are full after 5
// minutes and the rest of the run shows whether memory stays flat: the RSS and heap slopes are
// fitted from minute 7 on (defaults are 1 h, which a 20-minute run never fills). Loopback only, bounded in time, and every
// process it starts is stopped (`meshmedic down`, then by PID).

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, '..', 'src', 'cli', 'main.js');
const RATE = 200;
const SAMPLE_EVERY_MS = 10_000;
const RETENTION = '5m';
const WARMUP_MS = 7 * 60_000;

interface Sample {
  atS: number;
  rssMB: number;
  heapMB: number;
  series: number;
  storeMB: number;
  traces: number;
  spans: number;
}

const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;

export const soakBench: Benchmark = {
  description: 'control plane memory with bookinfo at 200 rps for 20 minutes (--size minutes)',
  async run({ size, progress }) {
    const minutes = size ?? 20;
    const home = mkdtempSync(join(tmpdir(), 'meshmedic-soak-'));
    const env = { ...process.env, MESHMEDIC_HOME: home, MESHMEDIC_ADDRESS_BASE: '127.19' };
    const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8' });
    const state = new StateDir(home);
    let pool: Pool | undefined;
    try {
      const up = cli(['up', '-f', join(here, '..', '..', 'examples', 'bookinfo'), '--timeout', '90', '--metrics-retention', RETENTION, '--trace-retention', RETENTION]);
      if (up.status !== 0) throw new Error(`meshmedic up failed: ${up.stderr}`);
      const status = JSON.parse(cli(['status', '-o', 'json']).stdout) as { instances: Array<{ name: string; address: string }> };
      const pp = status.instances.find((i) => i.name.startsWith('productpage'))!;
      const cpUrl = state.controlPlane()!.url;
      pool = new Pool(`http://${pp.address}:9080`, { connections: 16 });
      progress(`bookinfo up; ${RATE} rps to productpage for ${minutes} min`);

      let sent = 0;
      let failed = 0;
      let inFlight = 0;
      const start = Date.now();
      const end = start + minutes * 60_000;
      const samples: Sample[] = [];
      const sample = async () => {
        const s = (await (await request(`${cpUrl}/api/v1/status`, { headers: { authorization: `Bearer ${state.controlPlane()!.token}` } })).body.json()) as {
          process: { rssBytes: number; heapUsedBytes: number };
          metrics: { series: number; bytes: number };
          tracing: { traces?: number; spans?: number; store?: { traces: number; spans: number } };
        };
        const t = s.tracing.store ?? { traces: s.tracing.traces ?? 0, spans: s.tracing.spans ?? 0 };
        samples.push({ atS: Math.round((Date.now() - start) / 1000), rssMB: mb(s.process.rssBytes), heapMB: mb(s.process.heapUsedBytes), series: s.metrics.series, storeMB: mb(s.metrics.bytes), traces: t.traces, spans: t.spans });
        const last = samples[samples.length - 1];
        progress(`${last.atS} s: ${sent} requests (${failed} failed), control plane RSS ${last.rssMB} MB, heap ${last.heapMB} MB, ${last.series} series (${last.storeMB} MB), ${last.traces} traces`);
      };
      const one = async () => {
        inFlight++;
        try {
          const res = await pool!.request({ method: 'GET', path: '/productpage' });
          await res.body.dump();
          if (res.statusCode !== 200) failed++;
        } catch {
          failed++;
        } finally {
          inFlight--;
        }
      };
      // Open-loop pacing: at any time, the requests due so far have been sent (capped in flight).
      let nextSample = start + SAMPLE_EVERY_MS;
      while (Date.now() < end) {
        const due = Math.floor(((Date.now() - start) / 1000) * RATE);
        while (sent < due && inFlight < 200) {
          sent++;
          void one();
        }
        if (Date.now() >= nextSample) {
          nextSample += SAMPLE_EVERY_MS;
          await sample();
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      while (inFlight > 0) await new Promise((r) => setTimeout(r, 20));
      await sample();

      const steady = samples.filter((s) => s.atS * 1000 >= WARMUP_MS);
      const slope = (key: 'rssMB' | 'heapMB') => {
        // Least squares, MB per minute.
        const n = steady.length;
        if (n < 2) return NaN;
        const mx = steady.reduce((a, s) => a + s.atS, 0) / n;
        const my = steady.reduce((a, s) => a + s[key], 0) / n;
        const num = steady.reduce((a, s) => a + (s.atS - mx) * (s[key] - my), 0);
        const den = steady.reduce((a, s) => a + (s.atS - mx) ** 2, 0);
        return Math.round((num / den) * 60 * 1000) / 1000;
      };
      const durationS = (Date.now() - start) / 1000;
      return {
        benchmark: 'soak',
        minutes,
        targetRps: RATE,
        retention: RETENTION,
        steadyFromS: WARMUP_MS / 1000,
        achievedRps: Math.round((sent / durationS) * 10) / 10,
        requests: sent,
        failed,
        controlPlane: {
          steadyStart: steady[0],
          end: samples[samples.length - 1],
          maxRssMB: Math.max(...samples.map((s) => s.rssMB)),
          maxHeapMB: Math.max(...samples.map((s) => s.heapMB)),
          rssSlopeMBPerMin: slope('rssMB'),
          heapSlopeMBPerMin: slope('heapMB'),
        },
        samples,
      };
    } finally {
      await pool?.close();
      cli(['down']);
      for (const rec of [state.mesh(), state.controlPlane()]) if (rec && isAlive(rec.pid)) process.kill(rec.pid, 'SIGKILL');
      rmSync(home, { recursive: true, force: true });
    }
  },
};
