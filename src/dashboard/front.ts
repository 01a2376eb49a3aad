import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendError } from '../controlplane/http-json.js';
import { checkAccess } from './access-check.js';
import { serveStatic } from './static-assets.js';
import { dashboardRoutes, type SummaryDeps } from './summary-api.js';

// The dashboard's front door on the control plane's HTTP server (control-plane.ts calls it
// before the API): the token check for everything but the sidecars' two calls, the UI's files
// and the dashboard's own endpoints. Returns true when it answered.

export interface DashboardFrontOptions extends SummaryDeps {
  /** Required by the API and the UI when set (`meshmedic up` always sets one); unset: open, as in-process tests use it. */
  token?: string;
}

export function createDashboardFront(opts: DashboardFrontOptions): (req: IncomingMessage, res: ServerResponse, url: URL) => boolean {
  const routes = dashboardRoutes(opts);
  return (req, res, url) => {
    try {
      return handle(req, res, url);
    } catch (e) {
      sendError(res, e);
      return true;
    }
  };

  function handle(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    if (opts.token !== undefined && !checkAccess(req, res, url, opts.token)) return true;
    if (req.method === 'GET' && serveStatic(url.pathname, res)) return true;
    const route = routes.find(([method, pattern]) => method === req.method && pattern.test(url.pathname));
    if (!route) return false;
    Promise.resolve()
      .then(() => route[2](req, res, url, []))
      .catch((e) => sendError(res, e));
    return true;
  }
}
