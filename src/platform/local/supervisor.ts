import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';

// Runs the mesh's processes (one sidecar and one application per workload instance), each its
// own OS process so a crash takes down only that instance. A process that exits on its own is
// restarted with capped exponential backoff, as a kubelet restarts a container; every exit is
// reported so the registry can mark the instance unhealthy meanwhile.

export interface ProcessSpec {
  name: string; // unique, e.g. `sidecar/bookinfo/reviews-v2-0`
  command: string;
  args: string[];
  env: Record<string, string>;
  logFile: string;
}

/** `held`: stopped on purpose and not restarted until released (chaos holds a crashed instance down). */
export type ProcessState = 'starting' | 'running' | 'backoff' | 'stopped' | 'held';

export interface ProcessStatus {
  name: string;
  pid?: number;
  state: ProcessState;
  restarts: number;
  lastExit?: { code: number | null; signal: string | null };
}

export interface SupervisorEvents {
  onStart?(name: string, pid: number): void;
  onExit?(name: string, code: number | null, signal: string | null, willRestart: boolean): void;
}

export interface SupervisorOptions extends SupervisorEvents {
  restart?: boolean;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  setTimer?: (fn: () => void, ms: number) => { unref?(): void };
}

interface Entry {
  spec: ProcessSpec;
  child?: ChildProcess;
  status: ProcessStatus;
  stopping: boolean;
  held: boolean;
  exited?: Promise<void>;
}

export class Supervisor {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly opts: SupervisorOptions = {}) {}

  start(spec: ProcessSpec): void {
    if (this.entries.has(spec.name)) throw new Error(`process ${spec.name} is already supervised`);
    const entry: Entry = { spec, status: { name: spec.name, state: 'starting', restarts: 0 }, stopping: false, held: false };
    this.entries.set(spec.name, entry);
    this.launch(entry);
  }

  private launch(entry: Entry): void {
    const { spec } = entry;
    const fd = openSync(spec.logFile, 'a');
    const child = spawn(spec.command, spec.args, { env: { ...process.env, ...spec.env }, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    entry.child = child;
    entry.status.state = 'running';
    entry.status.pid = child.pid;
    if (child.pid) this.opts.onStart?.(spec.name, child.pid);
    entry.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        entry.status.lastExit = { code, signal };
        entry.status.pid = undefined;
        const willRestart = !entry.stopping && !entry.held && this.opts.restart !== false;
        this.opts.onExit?.(spec.name, code, signal, willRestart);
        if (willRestart) this.scheduleRestart(entry);
        else entry.status.state = entry.held && !entry.stopping ? 'held' : 'stopped';
        resolve();
      });
    });
  }

  private scheduleRestart(entry: Entry): void {
    entry.status.state = 'backoff';
    const base = this.opts.baseBackoffMs ?? 200;
    const delay = Math.min(this.opts.maxBackoffMs ?? 10_000, base * 2 ** Math.min(entry.status.restarts, 16));
    entry.status.restarts++;
    const timer = (this.opts.setTimer ?? setTimeout)(() => {
      if (!entry.stopping && !entry.held) this.launch(entry);
    }, delay);
    timer.unref?.();
  }

  /** Stop one process: SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  async stop(name: string, graceMs = 3000): Promise<void> {
    const entry = this.entries.get(name);
    if (!entry) return;
    entry.stopping = true;
    const child = entry.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      child.kill('SIGCONT'); // a stopped process acts on SIGTERM only once continued
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await entry.exited;
      clearTimeout(killer);
    }
    entry.status.state = 'stopped';
    this.entries.delete(name);
  }

  async stopAll(graceMs?: number): Promise<void> {
    await Promise.all([...this.entries.keys()].map((n) => this.stop(n, graceMs)));
  }

  /** Kill a process as a crash would (for chaos and tests); it is restarted like any crash. */
  kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): boolean {
    const child = this.entries.get(name)?.child;
    return child?.pid !== undefined && child.kill(signal);
  }

  /**
   * Kill a process (SIGKILL: a crash) and keep it down: no restart until `release`. Resolves
   * once it has exited. False when no such process is supervised. A gentler signal (SIGTERM)
   * comes with SIGCONT, so a stopped (hung) process acts on it, and SIGKILL follows after
   * `graceMs`, as a kubelet does when a container ignores its termination signal.
   */
  async hold(name: string, signal: NodeJS.Signals = 'SIGKILL', graceMs = 3000): Promise<boolean> {
    const entry = this.entries.get(name);
    if (!entry) return false;
    entry.held = true;
    const child = entry.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      let killer: NodeJS.Timeout | undefined;
      if (signal !== 'SIGKILL') {
        child.kill('SIGCONT');
        killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      }
      await entry.exited;
      clearTimeout(killer);
    }
    entry.status.state = 'held';
    return true;
  }

  /** Start a held process again (counted as a restart, as a crashed container's return is). */
  release(name: string): boolean {
    const entry = this.entries.get(name);
    if (!entry || !entry.held) return false;
    entry.held = false;
    if (entry.stopping) return true;
    const child = entry.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      entry.status.restarts++;
      this.launch(entry);
    }
    return true;
  }

  /** The process's current pid, if it runs. */
  pid(name: string): number | undefined {
    return this.entries.get(name)?.status.pid;
  }

  list(): ProcessStatus[] {
    return [...this.entries.values()].map((e) => ({ ...e.status }));
  }
}
