import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { runCli, type CliResult } from '../cli/helpers.js';
import type { Injection } from '../../src/platform/local/chaos/types.js';

// A small local mesh for the chaos tests, and how they look at it: requests through a
// sidecar's outbound listener (as the applications send them) or straight to an instance's
// inbound port, each instance's Istio metrics, the fault sets in its processes.

export const TOPOLOGY = `
defaults:
  namespace: shop
services:
- name: front
  isEntrypoint: true
  script:
  - call: api
- name: api
  numReplicas: 2
  latency: 20ms
  script:
  - call: store
- name: store
  versions:
  - name: v1
    replicas: 1
  - name: v2
    replicas: 1
`;

export interface Reply {
  status: number;
  flags: string;
  body: any;
  ms: number;
}

export class ChaosMesh {
  readonly home = mkdtempSync(join(tmpdir(), 'mm-chaos-'));
  readonly env: Record<string, string>;
  readonly addresses = new Map<string, string>();
  private readonly pools = new Map<string, Pool>();

  constructor(base: string) {
    this.env = { MESHMEDIC_HOME: this.home, MESHMEDIC_ADDRESS_BASE: base };
    writeFileSync(join(this.home, 'topology.yaml'), TOPOLOGY);
  }

  cli(args: string[]): CliResult {
    return runCli(args, undefined, this.env);
  }

  ok(args: string[]): string {
    const r = this.cli(args);
    assert.equal(r.code, 0, `meshmedic ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    return r.stdout;
  }

  up(): void {
    this.ok(['up', '-f', join(this.home, 'topology.yaml'), '--timeout', '60']);
    const status = JSON.parse(this.ok(['status', '-o', 'json'])) as { instances: Array<{ name: string; address: string }> };
    for (const i of status.instances) this.addresses.set(i.name, i.address);
  }

  /** Injects; the id printed on stdout. */
  inject(type: string, ...args: string[]): string {
    const id = this.ok(['chaos', 'inject', type, ...args]).trim();
    assert.match(id, /^c\d+$/);
    return id;
  }

  injection(id: string): Injection {
    const all = JSON.parse(this.ok(['chaos', 'list', '-o', 'json'])) as Injection[];
    const found = all.find((i) => i.id === id);
    assert.ok(found, `${id} is not listed`);
    return found;
  }

  private pool(origin: string): Pool {
    let p = this.pools.get(origin);
    if (!p) this.pools.set(origin, (p = new Pool(origin, { connections: 64 })));
    return p;
  }

  /** A request through `from`'s sidecar outbound listener, as its application sends it (`http://api:8080/`). */
  async via(from: string, url: string, timeoutMs = 10_000): Promise<Reply> {
    return this.send(`http://${this.addresses.get(from)}:15001`, url, timeoutMs);
  }

  /** A request to an instance's inbound port (its sidecar, then its application). */
  async direct(instance: string, timeoutMs = 10_000): Promise<Reply> {
    return this.send(`http://${this.addresses.get(instance)}:8080`, '/', timeoutMs);
  }

  private async send(origin: string, path: string, timeoutMs: number): Promise<Reply> {
    const started = performance.now();
    const res = await this.pool(origin).request({ method: 'GET', path, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.body.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* a local reply's text */
    }
    return { status: res.statusCode, flags: String(res.headers['x-meshmedic-flags'] ?? '-'), body, ms: performance.now() - started };
  }

  async closePools(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.destroy()));
  }
}

/** Waits (bounded) for a condition; fails with the last value seen. */
export async function eventually<T>(what: string, probe: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  for (;;) {
    last = await probe();
    if (ok(last)) return last;
    if (Date.now() > deadline) assert.fail(`${what}: still ${String(JSON.stringify(last)).slice(0, 300)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** GET over HTTP (TCP or a unix socket), JSON answer. */
export function getJson(target: { host?: string; port?: number; socketPath?: string; path: string }): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ ...target, method: 'GET', timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Sum of `istio_request_duration_milliseconds_sum` series of a sidecar for one reporter and destination service. */
export async function durationSum(address: string, reporter: 'source' | 'destination', destinationService: string): Promise<{ sum: number; count: number }> {
  const text = await new Promise<string>((resolve, reject) => {
    httpRequest({ host: address, port: 15090, path: '/stats/prometheus' }, (res) => {
      let s = '';
      res.on('data', (c) => (s += c));
      res.on('end', () => resolve(s));
    }).on('error', reject).end();
  });
  const pick = (name: string) =>
    text.split('\n').filter((l) => l.startsWith(`${name}{`) && l.includes(`reporter="${reporter}"`) && l.includes(`destination_service_name="${destinationService}"`)).reduce((a, l) => a + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  return { sum: pick('istio_request_duration_milliseconds_sum'), count: pick('istio_request_duration_milliseconds_count') };
}

/** CPU time (user + system) of a process in ms, from /proc (USER_HZ 100). */
export function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** The process state letter from /proc (`T`: stopped). */
export function processState(pid: number): string {
  return /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '?';
}
