import { mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname } from 'node:path';
import { HttpError, readJson, sendError, sendJson } from '../../../controlplane/http-json.js';
import { AppFaultError, validateFaultSet, type WorkloadFaults } from './faults.js';

// The application's fault control channel: a small HTTP server on a unix socket of its own in
// the state directory (owner-only, like every socket there), which the mesh daemon uses to
// put chaos faults in force and take them away. Not a port of the service: the mesh never
// routes to it.
//
//   GET /faults   {"faults": {<injection id>: {latency?, error?, cpu?}}}
//   PUT /faults   the same body: replaces the whole set (the daemon always sends all of it)

export async function startControlServer(socketPath: string, faults: WorkloadFaults): Promise<{ close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    void handle().catch((e: unknown) => sendError(res, e instanceof AppFaultError ? new HttpError(400, 'E_BAD_FAULT', e.message) : e));
    async function handle(): Promise<void> {
      if (req.url !== '/faults') throw new HttpError(404, 'E_NOT_FOUND', 'the control channel serves /faults only');
      if (req.method === 'GET') return sendJson(res, 200, { faults: faults.current });
      if (req.method !== 'PUT') throw new HttpError(405, 'E_METHOD', 'GET or PUT /faults');
      const body = await readJson(req);
      faults.replace(validateFaultSet(body?.faults));
      sendJson(res, 200, { faults: faults.current });
    }
  });
  mkdirSync(dirname(socketPath), { recursive: true, mode: 0o700 });
  rmSync(socketPath, { force: true }); // a stale socket left by a crashed run
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
