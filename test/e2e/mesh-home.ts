import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { isAlive, StateDir } from '../../src/platform/local/state-dir.js';
import { runCli, type CliResult } from '../cli/helpers.js';

// What every whole-mesh test needs: its own state directory (MESHMEDIC_HOME, a temp dir) and
// its own loopback addresses (MESHMEDIC_ADDRESS_BASE), the CLI run against them, and a teardown
// that leaves nothing behind: `meshmedic down`, then whatever it could not stop, by PID, then
// the directory.

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');

export interface MeshHome {
  home: string;
  env: Record<string, string>;
  state: StateDir;
  /** The CLI, synchronously (it blocks this process: no load runs meanwhile). */
  cli(args: string[]): CliResult;
  /** The same, asserting exit 0; its stdout. */
  ok(args: string[]): string;
  /** The CLI in a child process, so this process's timers (a load generator) keep running. */
  cliAsync(args: string[], timeoutMs?: number): Promise<{ code: number; stdout: string; stderr: string }>;
  /** GET on the running control plane's API with its token; asserts 200; the JSON. */
  api<T>(path: string): Promise<T>;
  /** Prints the last lines of the control plane's and the mesh daemon's logs (for a failed test). */
  printLogTails(lines?: number): void;
  /**
   * Clears every chaos injection, prints the logs' last lines when `failed`, then `down`, the
   * mesh daemon and control plane by PID if still alive, and the directory.
   */
  teardown(o?: { failed?: boolean }): void;
}

export function meshHome(prefix: string, addressBase: string): MeshHome {
  const home = mkdtempSync(join(tmpdir(), `mm-e2e-${prefix}-`));
  const env = { MESHMEDIC_HOME: home, MESHMEDIC_ADDRESS_BASE: addressBase };
  const state = new StateDir(home);
  const cli = (args: string[]) => runCli(args, undefined, env);
  return {
    home, env, state, cli,
    ok(args) {
      const r = cli(args);
      assert.equal(r.code, 0, `meshmedic ${args.join(' ')}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
      return r.stdout;
    },
    cliAsync(args, timeoutMs = 90_000) {
      return new Promise((resolve) => {
        execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
        });
      });
    },
    async api<T>(path: string): Promise<T> {
      const cp = state.liveControlPlane();
      assert.ok(cp, 'no control plane is running');
      const res = await request(`${cp.url}${path}`, { headers: cp.token ? { authorization: `Bearer ${cp.token}` } : {} });
      assert.equal(res.statusCode, 200, `${path}: HTTP ${res.statusCode}`);
      return (await res.body.json()) as T;
    },
    printLogTails(lines = 40) {
      for (const f of ['controlplane.log', 'mesh.log']) {
        const file = join(home, 'logs', f);
        if (existsSync(file)) console.log(`--- ${f} (last lines)\n${readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n')}`);
      }
    },
    teardown(o = {}) {
      if (state.liveControlPlane()) cli(['chaos', 'clear', '--all']);
      if (o.failed) this.printLogTails();
      cli(['down']);
      for (const rec of [state.mesh(), state.controlPlane()]) if (rec && isAlive(rec.pid)) process.kill(rec.pid, 'SIGKILL');
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` every `everyMs` until `good`; fails with the last value after `ms`. */
export async function until<T>(what: string, probe: () => T | Promise<T>, good: (v: T) => boolean, ms: number, everyMs = 500): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (good(v)) return v;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${ms} ms; last: ${String(JSON.stringify(v)).slice(0, 800)}`);
    await sleep(everyMs);
  }
}
