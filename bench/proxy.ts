import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlPlane } from '../src/controlplane/control-plane.js';
import { parseText } from '../src/config/loader.js';
import { request } from 'undici';
import type { Benchmark } from './registry.js';
import { writeCredentialFile } from '../src/security/bootstrap-credential.js';

// Our sidecar against nginx as a keep-alive reverse proxy, side by side in one run: each proxy
// in turn pinned to core 0, proxying to the same upstream (an nginx answering a fixed body),
// with the load generator (wrk) and the upstream on core 1. The sidecar runs as in the mesh: a
// real process fed by a real control plane, with a VirtualService whose earlier rules must be
// evaluated (and fail to match) before the one that routes. A second service on the same
// upstream has every resilience feature configured but not firing (route timeout, retries,
// fault injection at 0%, connectionPool limits far above the load, outlier detection on an
// upstream that never fails): the sidecar measured on both gives what those features cost on
// the hot path (`resilience.rpsRatio`, `resilience.cpuRatio`: configured / plain). A second
// sidecar of the same workload has its telemetry turned off by a Telemetry resource (metrics
// disabled, trace sampling 0%): the two side by side give what Istio's metrics, peer metadata and
// tracing cost (`telemetry.rpsRatio`, `telemetry.cpuRatio`: on / off). Mutual TLS: the sidecar
// calls a second sidecar (the upstream's, on core 0 too) in front of the same upstream, once with
// auto mTLS and once with a DestinationRule `tls: DISABLE`; both sidecars' CPU counts, and the
// pair side by side gives what mTLS costs (`mtls.rpsRatio`, `mtls.cpuRatio`: mTLS / plaintext).

const here = dirname(fileURLToPath(import.meta.url));
const PROXY_MAIN = join(here, '..', 'src', 'proxy', 'main.js');
const ENSURE = join(here, '..', '..', 'scripts', 'ensure-debian-packages.sh');

const CLIENT = '127.10.250.1'; // the sidecar under test
const UPSTREAM = '127.10.250.2'; // the upstream (nginx, fixed body)
const NGINX_PROXY = '127.10.250.3'; // nginx as the proxy under test
const CLIENT_NO_TELEMETRY = '127.10.250.4'; // the sidecar under test, telemetry off
const HOST = 'upstream.bench.svc.cluster.local:8080';
const RESILIENT_HOST = 'resilient.bench.svc.cluster.local:8080';
const SERVER = '127.10.250.5'; // the upstream's sidecar (mTLS variant)
const SECURE_HOST = 'secure.bench.svc.cluster.local:8080';
const SECURE_PLAIN_HOST = 'secure-plain.bench.svc.cluster.local:8080';

const CONFIG = `apiVersion: v1
kind: Namespace
metadata: {name: bench}
---
apiVersion: v1
kind: Service
metadata: {name: upstream, namespace: bench}
spec:
  selector: {app: upstream}
  ports: [{name: http, port: 8080}]
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: upstream-0, namespace: bench}
spec:
  address: ${UPSTREAM}
  labels: {app: upstream, version: v1}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: upstream, namespace: bench}
spec:
  host: upstream
  trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}
  subsets: [{name: v1, labels: {version: v1}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: upstream, namespace: bench}
spec:
  hosts: [upstream]
  http:
  - match: [{headers: {x-canary: {exact: "true"}}}]
    route: [{destination: {host: upstream, subset: v1}}]
  - match: [{uri: {prefix: /admin}}, {queryParams: {debug: {exact: "1"}}}]
    route: [{destination: {host: upstream, subset: v1}}]
  - route: [{destination: {host: upstream, subset: v1}}]
---
apiVersion: v1
kind: Service
metadata: {name: resilient, namespace: bench}
spec:
  selector: {app: upstream}
  ports: [{name: http, port: 8080}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: resilient, namespace: bench}
spec:
  host: resilient
  trafficPolicy:
    loadBalancer: {simple: LEAST_REQUEST}
    connectionPool:
      tcp: {maxConnections: 10000, connectTimeout: 5s}
      http: {http1MaxPendingRequests: 10000, http2MaxRequests: 10000, maxRetries: 100, idleTimeout: 300s}
    outlierDetection: {consecutive5xxErrors: 5, consecutiveGatewayErrors: 5, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 50}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: resilient, namespace: bench}
spec:
  hosts: [resilient]
  http:
  - match: [{headers: {x-canary: {exact: "true"}}}]
    route: [{destination: {host: resilient}}]
  - match: [{uri: {prefix: /admin}}, {queryParams: {debug: {exact: "1"}}}]
    route: [{destination: {host: resilient}}]
  - route: [{destination: {host: resilient}}]
    timeout: 10s
    retries: {attempts: 3, perTryTimeout: 5s, retryOn: "5xx,reset,connect-failure"}
    fault:
      delay: {fixedDelay: 1s, percentage: {value: 0}}
      abort: {httpStatus: 503, percentage: {value: 0}}
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: telemetry-off, namespace: bench}
spec:
  selector: {matchLabels: {telemetry: "off"}}
  metrics: [{overrides: [{match: {metric: ALL_METRICS}, disabled: true}]}]
  tracing: [{randomSamplingPercentage: 0}]
---
apiVersion: v1
kind: Service
metadata: {name: secure, namespace: bench}
spec:
  selector: {app: secure}
  ports: [{name: http, port: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: secure-plain, namespace: bench}
spec:
  selector: {app: secure}
  ports: [{name: http, port: 8080}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: secure-plain, namespace: bench}
spec:
  host: secure-plain
  trafficPolicy: {tls: {mode: DISABLE}}
`;

interface Figures {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  cpuMicrosPerRequest: number;
  rssMB: number;
}

const CLK_TCK = 100;

function cpuMicros(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    ticks += Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14 and 15 of stat)
  }
  return (ticks / CLK_TCK) * 1e6;
}

function rssMB(pids: number[]): number {
  let kb = 0;
  for (const pid of pids) kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return Math.round(kb / 102.4) / 10;
}

function parseWrk(out: string): { rps: number; p50Ms: number; p99Ms: number; requests: number; errors: number } {
  const ms = (v: string, unit: string) => Number(v) * (unit === 'us' ? 0.001 : unit === 's' ? 1000 : 1);
  const pct = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)`, 'm').exec(out);
    return m ? ms(m[1], m[2]) : NaN;
  };
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const sockErr = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
    p50Ms: pct('50'),
    p99Ms: pct('99'),
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? 0),
    errors: non2xx + (sockErr ? sockErr.slice(1).reduce((a, b) => a + Number(b), 0) : 0),
  };
}

async function waitHttp(url: string, headers: Record<string, string> = {}, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      // undici's request, not fetch: fetch drops the Host header, which is what routes here.
      const res = await request(url, { headers });
      await res.body.dump();
      if (res.statusCode === 200) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} not ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function nginxConf(dir: string, body: string): string {
  return `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  ${body}
}
`;
}

export const proxyBench: Benchmark = {
  description: 'our sidecar vs nginx as a keep-alive reverse proxy, same core, same upstream (wrk)',
  async run({ size, runs, progress }) {
    const seconds = size ?? 10;
    spawnSync(ENSURE, ['nginx=nginx-light', 'wrk=wrk'], { stdio: 'inherit' });
    const nginxBin = spawnSync('sh', ['-c', 'command -v nginx || echo /usr/sbin/nginx'], { encoding: 'utf8' }).stdout.trim();
    const dir = mkdtempSync(join(tmpdir(), 'meshmedic-bench-proxy-'));
    const children: ChildProcess[] = [];
    const cp = new ControlPlane({ port: 0 });
    const start = (cmd: string, args: string[], env: Record<string, string> = {}) => {
      const c = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
      children.push(c);
      return c;
    };
    try {
      // The upstream, on core 1 with the load generator.
      writeFileSync(join(dir, 'upstream.conf'), nginxConf(join(dir), `server { listen ${UPSTREAM}:8080 reuseport; location / { return 200 "hello from upstream\\n"; } }`));
      start('taskset', ['-c', '1', nginxBin, '-c', join(dir, 'upstream.conf'), '-p', dir]);
      await waitHttp(`http://${UPSTREAM}:8080/`);

      // nginx as the proxy under test, on core 0.
      const pdir = join(dir, 'p');
      spawnSync('mkdir', ['-p', pdir]);
      writeFileSync(join(pdir, 'proxy.conf'), nginxConf(pdir, `upstream up { server ${UPSTREAM}:8080; keepalive 256; }
  server { listen ${NGINX_PROXY}:8081; location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host; } }`));
      const nginx = start('taskset', ['-c', '0', nginxBin, '-c', join(pdir, 'proxy.conf'), '-p', pdir]);
      await waitHttp(`http://${NGINX_PROXY}:8081/`);

      // Our sidecar, fed by a real control plane (in this process, on core 1).
      spawnSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
      const cfg = parseText(CONFIG, 'bench-config.yaml', { defaultNamespace: 'bench' });
      cp.store.apply(cfg.resources);
      cp.registry.upsert({ name: 'client-0', workload: 'client', namespace: 'bench', serviceAccount: 'default', labels: { app: 'client', version: 'v1' }, address: CLIENT, ports: [], healthy: true, source: 'registered' });
      const { url } = await cp.start();
      const node = { id: 'client-0.bench', instance: 'client-0', workload: 'client', namespace: 'bench', serviceAccount: 'default', labels: { app: 'client', version: 'v1' }, address: CLIENT };
      // Bootstrap credentials for the mesh CA (0600 files, as the local platform hands them over).
      const credential = (id: string) => writeCredentialFile(dir, id, cp.ca.credentialFor(id));
      const sidecar = start('taskset', ['-c', '0', process.execPath, ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), PROXY_MAIN], { MESH_NODE: JSON.stringify(node), MESH_XDS: url, MESH_CREDENTIAL_FILE: credential(node.id) });
      await waitHttp(`http://${CLIENT}:15000/ready`);
      await waitHttp(`http://${CLIENT}:15001/`, { host: HOST });
      const quietLabels = { app: 'client', version: 'v1', telemetry: 'off' };
      cp.registry.upsert({ name: 'client-quiet-0', workload: 'client-quiet', namespace: 'bench', serviceAccount: 'default', labels: quietLabels, address: CLIENT_NO_TELEMETRY, ports: [], healthy: true, source: 'registered' });
      const quietNode = { id: 'client-quiet-0.bench', instance: 'client-quiet-0', workload: 'client-quiet', namespace: 'bench', serviceAccount: 'default', labels: quietLabels, address: CLIENT_NO_TELEMETRY };
      const quiet = start('taskset', ['-c', '0', process.execPath, ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), PROXY_MAIN], { MESH_NODE: JSON.stringify(quietNode), MESH_XDS: url });
      await waitHttp(`http://${CLIENT_NO_TELEMETRY}:15000/ready`);
      await waitHttp(`http://${CLIENT_NO_TELEMETRY}:15001/`, { host: HOST });

      // The upstream's own sidecar (mutual TLS variant), in front of the same nginx.
      const serverLabels = { app: 'secure', version: 'v1' };
      cp.registry.upsert({ name: 'secure-0', workload: 'secure', namespace: 'bench', serviceAccount: 'secure', labels: serverLabels, address: SERVER, ports: [{ name: 'http', port: 8080, protocol: 'http', app: { host: UPSTREAM, port: 8080 } }], healthy: true, source: 'registered' });
      const serverNode = { id: 'secure-0.bench', instance: 'secure-0', workload: 'secure', namespace: 'bench', serviceAccount: 'secure', labels: serverLabels, address: SERVER };
      const server = start('taskset', ['-c', '0', process.execPath, ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), PROXY_MAIN], { MESH_NODE: JSON.stringify(serverNode), MESH_XDS: url, MESH_CREDENTIAL_FILE: credential(serverNode.id) });
      await waitHttp(`http://${SERVER}:15000/ready`);
      await waitHttp(`http://${CLIENT}:15001/`, { host: SECURE_HOST });
      await waitHttp(`http://${CLIENT}:15001/`, { host: SECURE_PLAIN_HOST });

      const nginxPids = [nginx.pid!, Number(readFileSync(join(pdir, 'nginx.pid'), 'utf8')) || nginx.pid!];
      const workerPids = spawnSync('pgrep', ['-P', String(nginxPids[1])], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number);
      // Interleaved rounds: each round measures every target once, in turn, so slow drift of the
      // machine (other work on the cores) touches all of them alike; a ratio is the median of the
      // ratios within rounds, the figures of a target its median run.
      interface Target { name: string; url: string; host: string; pids: number[]; runs: Figures[] }
      const targets: Record<'ours' | 'theirs' | 'resilient' | 'telemetryOff' | 'mtls' | 'mtlsOff', Target> = {
        ours: { name: 'meshmedic', url: `http://${CLIENT}:15001/`, host: HOST, pids: [sidecar.pid!], runs: [] },
        theirs: { name: 'nginx', url: `http://${NGINX_PROXY}:8081/`, host: HOST, pids: [...new Set([...nginxPids, ...workerPids])], runs: [] },
        resilient: { name: 'meshmedic, resilience configured', url: `http://${CLIENT}:15001/`, host: RESILIENT_HOST, pids: [sidecar.pid!], runs: [] },
        telemetryOff: { name: 'meshmedic, telemetry off', url: `http://${CLIENT_NO_TELEMETRY}:15001/`, host: HOST, pids: [quiet.pid!], runs: [] },
        mtls: { name: 'meshmedic -> meshmedic, mutual TLS', url: `http://${CLIENT}:15001/`, host: SECURE_HOST, pids: [sidecar.pid!, server.pid!], runs: [] },
        mtlsOff: { name: 'meshmedic -> meshmedic, plaintext', url: `http://${CLIENT}:15001/`, host: SECURE_PLAIN_HOST, pids: [sidecar.pid!, server.pid!], runs: [] },
      };
      await waitHttp(`http://${CLIENT}:15001/`, { host: RESILIENT_HOST });
      for (const t of Object.values(targets)) spawnSync('taskset', ['-c', '1', 'wrk', '-t1', '-c32', '-d2s', '-H', `Host: ${t.host}`, t.url], { encoding: 'utf8' }); // warm-up
      for (let i = 0; i < Math.max(1, runs); i++) {
        for (const t of Object.values(targets)) {
          const cpu0 = cpuMicros(t.pids);
          const out = spawnSync('taskset', ['-c', '1', 'wrk', '-t1', '-c32', `-d${seconds}s`, '--latency', '-H', `Host: ${t.host}`, t.url], { encoding: 'utf8' }).stdout;
          const w = parseWrk(out);
          if (w.errors > 0) throw new Error(`${t.name}: ${w.errors} failed requests during the run`);
          const cpu = cpuMicros(t.pids) - cpu0;
          t.runs.push({ rps: Math.round(w.rps), p50Ms: w.p50Ms, p99Ms: w.p99Ms, requests: w.requests, cpuMicrosPerRequest: Math.round((cpu / w.requests) * 10) / 10, rssMB: rssMB(t.pids) });
          progress(`round ${i + 1}, ${t.name}: ${Math.round(w.rps)} rps, ${t.runs[i].cpuMicrosPerRequest} µs CPU/request, p99 ${w.p99Ms} ms`);
        }
      }
      const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
      const medianRun = (t: Target) => [...t.runs].sort((x, y) => x.rps - y.rps)[Math.floor(t.runs.length / 2)];
      const roundRatio = (a: Target, b: Target, key: 'rps' | 'cpuMicrosPerRequest') => Math.round(median(a.runs.map((r, i) => r[key] / b.runs[i][key])) * 1000) / 1000;
      const ours = medianRun(targets.ours);
      const theirs = medianRun(targets.theirs);
      const resilient = medianRun(targets.resilient);
      const telemetryOff = medianRun(targets.telemetryOff);
      return {
        benchmark: 'proxy',
        rpsRatio: roundRatio(targets.ours, targets.theirs, 'rps'),
        cpuRatio: roundRatio(targets.ours, targets.theirs, 'cpuMicrosPerRequest'),
        meshmedic: ours,
        nginx: theirs,
        resilience: {
          what: 'route timeout, retries, fault delay+abort at 0%, connectionPool limits, outlierDetection: configured, not firing',
          rpsRatio: roundRatio(targets.resilient, targets.ours, 'rps'),
          cpuRatio: roundRatio(targets.resilient, targets.ours, 'cpuMicrosPerRequest'),
          meshmedic: resilient,
        },
        telemetry: {
          what: "Istio's standard metrics (source reporter), peer metadata headers, tracing at 1%: on (meshmedic) versus off (a Telemetry resource disabling metrics, sampling 0%)",
          rpsRatio: roundRatio(targets.ours, targets.telemetryOff, 'rps'),
          cpuRatio: roundRatio(targets.ours, targets.telemetryOff, 'cpuMicrosPerRequest'),
          off: telemetryOff,
        },
        mtls: {
          what: 'client sidecar -> server sidecar -> upstream, both sidecars on core 0 and counted: auto mTLS (ECDSA P-256 workload certificates, TLS 1.3) versus DestinationRule tls DISABLE',
          rpsRatio: roundRatio(targets.mtls, targets.mtlsOff, 'rps'),
          cpuRatio: roundRatio(targets.mtls, targets.mtlsOff, 'cpuMicrosPerRequest'),
          on: medianRun(targets.mtls),
          off: medianRun(targets.mtlsOff),
        },
        setup: { proxyCore: 0, loadAndUpstreamCore: 1, wrk: '-t1 -c32', seconds, runs: Math.max(1, runs), routing: 'VirtualService with 3 rules (header, uri prefix/query, default) and a subset', node: process.version },
      };
    } finally {
      for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
      await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
      await cp.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
