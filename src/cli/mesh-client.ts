import { StateDir, type ControlPlaneRecord } from '../platform/local/state-dir.js';
import { EXIT_UNKNOWN_ERROR, ExitError } from './exit-codes.js';

// How CLI commands reach the running control plane: its address is in the state directory.

export function stateDirOption(opts: { stateDir?: string }): StateDir {
  return new StateDir(opts.stateDir);
}

export function requireControlPlane(state: StateDir): ControlPlaneRecord {
  const rec = state.liveControlPlane();
  if (!rec) throw new ExitError(EXIT_UNKNOWN_ERROR, [`Error: no mesh is running (state directory ${state.root}); start one with: meshmedic up -f examples/bookinfo`]);
  return rec;
}

/** The API token from the control plane's record (the state directory, mode 0600). */
export function authHeader(cp: ControlPlaneRecord): Record<string, string> {
  return cp.token ? { authorization: `Bearer ${cp.token}` } : {};
}

export interface ApiError {
  error: { code: string; message: string; details?: unknown };
}

/** Calls the control plane API; a non-2xx answer becomes an ExitError with the server's message. */
export async function callApi<T>(cp: ControlPlaneRecord, method: string, path: string, body?: string | object, exitCode = EXIT_UNKNOWN_ERROR): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${cp.url}${path}`, {
      method,
      headers: { ...authHeader(cp), ...(body !== undefined && { 'content-type': typeof body === 'string' ? 'application/yaml' : 'application/json' }) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  } catch (e) {
    throw new ExitError(EXIT_UNKNOWN_ERROR, [`Error: cannot reach the control plane at ${cp.url}: ${(e as Error).message}`]);
  }
  const text = await res.text();
  const json = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const err = (json as ApiError | undefined)?.error;
    throw new ExitError(exitCode, [`Error: ${err?.message ?? `HTTP ${res.status}`}${err?.code ? ` [${err.code}]` : ''}`]);
  }
  return json as T;
}
