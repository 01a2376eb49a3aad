import type { Server as HttpServer } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';

// Binding and draining a server, shared by HTTP and TCP listeners and the admin server.

export function listen(server: NetServer | HttpServer, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen({ host: address, port, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * Stops accepting at once; idle keep-alive connections close now, busy ones may finish their
 * request for up to `graceMs` before they are cut (Envoy's drain).
 */
export function closeServer(server: NetServer | HttpServer, graceMs: number, sockets?: Set<Socket>): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    let timer: NodeJS.Timeout | undefined;
    server.close(() => {
      if (timer) clearTimeout(timer);
      resolve();
    });
    const http = server as HttpServer;
    if (typeof http.closeIdleConnections === 'function') http.closeIdleConnections();
    timer = setTimeout(() => {
      if (typeof http.closeAllConnections === 'function') http.closeAllConnections();
      if (sockets) for (const s of sockets) s.destroy();
    }, graceMs);
    timer.unref();
    if (graceMs === 0) {
      if (typeof http.closeAllConnections === 'function') http.closeAllConnections();
      if (sockets) for (const s of sockets) s.destroy();
    }
  });
}
