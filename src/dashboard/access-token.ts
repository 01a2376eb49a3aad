import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// The token the control plane's API and the dashboard ask for. One per state directory: made
// at the first start (or taken from $MESHMEDIC_API_TOKEN), kept in `<state>/api-token` with mode
// 0600 so that only the mesh's owner (and the CLI running as them) can read it, and stable across
// restarts so a bookmarked dashboard URL keeps working.

export const API_TOKEN_FILE = 'api-token';
export const API_TOKEN_ENV = 'MESHMEDIC_API_TOKEN';

export function apiTokenPath(stateRoot: string): string {
  return join(stateRoot, API_TOKEN_FILE);
}

/** The state directory's token, or undefined when none was made yet (a mesh from before tokens). */
export function readApiToken(stateRoot: string): string | undefined {
  const p = apiTokenPath(stateRoot);
  if (!existsSync(p)) return undefined;
  const token = readFileSync(p, 'utf8').trim();
  return token || undefined;
}

/** The configured token ($MESHMEDIC_API_TOKEN), else the stored one, else a new random one (stored). */
export function loadOrCreateApiToken(stateRoot: string, env: NodeJS.ProcessEnv = process.env): string {
  const p = apiTokenPath(stateRoot);
  const configured = env[API_TOKEN_ENV]?.trim();
  const token = configured || readApiToken(stateRoot) || randomBytes(24).toString('base64url');
  if (readApiToken(stateRoot) !== token) writeFileSync(p, `${token}\n`, { mode: 0o600 });
  chmodSync(p, 0o600); // a file made before (or by hand) gets the mode too
  return token;
}
