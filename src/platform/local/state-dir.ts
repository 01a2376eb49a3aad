import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

// The local platform keeps its state in one directory (default `.meshmedic/` in the working
// directory, or $MESHMEDIC_HOME, or --state-dir): the install profile, where the running
// control plane listens, workload sockets and logs.

export interface ControlPlaneRecord {
  pid: number;
  url: string; // http://127.0.0.1:PORT
  /** The API token (src/dashboard/access-token.ts); this file is 0600 like the token's own. */
  token?: string;
  startedAt: string;
}

/** The `up` daemon that supervises every process of the local mesh. */
export interface MeshRecord {
  pid: number;
  port: number; // the control plane's port
  topologies: string[];
  startedAt: string;
}

export interface InstallRecord {
  profile: 'demo' | 'default' | 'minimal';
  addons: { metrics: boolean; tracing: boolean; dashboard: boolean; autoRecover: boolean };
  installedAt: string;
}

export class StateDir {
  readonly root: string;

  constructor(root?: string) {
    this.root = resolve(root ?? process.env.MESHMEDIC_HOME ?? '.meshmedic');
  }

  get socketsDir(): string {
    return join(this.root, 'sockets');
  }

  get logsDir(): string {
    return join(this.root, 'logs');
  }

  ensure(): this {
    for (const d of [this.root, this.socketsDir, this.logsDir]) mkdirSync(d, { recursive: true, mode: 0o700 });
    return this;
  }

  private read<T>(name: string): T | undefined {
    const p = join(this.root, name);
    if (!existsSync(p)) return undefined;
    try {
      return JSON.parse(readFileSync(p, 'utf8')) as T;
    } catch {
      return undefined;
    }
  }

  private write(name: string, value: unknown): void {
    this.ensure();
    writeFileSync(join(this.root, name), `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  }

  controlPlane(): ControlPlaneRecord | undefined {
    return this.read<ControlPlaneRecord>('controlplane.json');
  }

  /** The running control plane, or undefined when the record is stale (its process is gone). */
  liveControlPlane(): ControlPlaneRecord | undefined {
    const rec = this.controlPlane();
    return rec && isAlive(rec.pid) ? rec : undefined;
  }

  saveControlPlane(rec: ControlPlaneRecord): void {
    this.write('controlplane.json', rec);
  }

  clearControlPlane(): void {
    rmSync(join(this.root, 'controlplane.json'), { force: true });
  }

  mesh(): MeshRecord | undefined {
    return this.read<MeshRecord>('mesh.json');
  }

  liveMesh(): MeshRecord | undefined {
    const rec = this.mesh();
    return rec && isAlive(rec.pid) ? rec : undefined;
  }

  saveMesh(rec: MeshRecord): void {
    this.write('mesh.json', rec);
  }

  clearMesh(): void {
    rmSync(join(this.root, 'mesh.json'), { force: true });
  }

  install(): InstallRecord | undefined {
    return this.read<InstallRecord>('install.json');
  }

  saveInstall(rec: InstallRecord): void {
    this.write('install.json', rec);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
