import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';

// A real Prometheus for tests: Debian's package, installed by the project's script when missing
// (CI runs as root and can apt-get), started on a loopback address with a generated config,
// stopped by PID.

const root = fileURLToPath(new URL('../../..', import.meta.url));

export interface StaticTarget {
  address: string; // host:port
  labels: Record<string, string>;
}

export interface PrometheusServer {
  url: string;
  pid: number;
  log(): string;
  stop(): Promise<void>;
}

export function ensurePrometheusInstalled(): void {
  const r = spawnSync('bash', [join(root, 'scripts/ensure-debian-packages.sh'), 'prometheus=prometheus'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`installing Debian's prometheus failed (exit ${r.status}): ${r.stderr}`);
}

/** Istio's addon job (`kubernetes-pods`, honor_labels) with the labels its relabelling would give each pod. */
export function prometheusConfig(targets: StaticTarget[], intervalS = 1): string {
  const groups = targets
    .map((t) => `      - targets: ['${t.address}']\n        labels: {${Object.entries(t.labels).map(([k, v]) => `${k}: '${v}'`).join(', ')}}`)
    .join('\n');
  return (
    `global:\n  scrape_interval: ${intervalS}s\n  scrape_timeout: ${intervalS}s\n  evaluation_interval: ${intervalS}s\n` +
    `scrape_configs:\n  - job_name: kubernetes-pods\n    honor_labels: true\n    metrics_path: /stats/prometheus\n    static_configs:\n${groups}\n`
  );
}

export async function startPrometheus(listen: string, config: string): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), 'mm-prom-'));
  writeFileSync(join(dir, 'prometheus.yml'), config);
  let log = '';
  const child: ChildProcess = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=${listen}`, '--log.level=warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.pid && child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(() => child.exitCode === null && child.pid && process.kill(child.pid, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `http://${listen}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = await request(`${url}/-/ready`)
      .then(async (r) => (await r.body.dump(), r.statusCode))
      .catch(() => 0);
    if (status === 200) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`Prometheus did not get ready: ${log.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, pid: child.pid!, log: () => log, stop };
}
