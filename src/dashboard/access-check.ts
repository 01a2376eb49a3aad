import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../controlplane/http-json.js';

// Who may use the control plane's HTTP server: whoever shows the token, as
// `Authorization: Bearer <token>` (the CLI, the mesh daemon), as the `meshmedic_token` cookie
// (the dashboard in a browser) or once as `?token=` (the URL `meshmedic dashboard` prints; the
// answer then sets the cookie so the page's own requests carry it).
//
// Sidecars are exempt for their two calls, the xDS stream and span ingestion: they have no way
// to the token file yet and the security issue gives them per-workload credentials instead.
// Both are loopback-only like the rest, and neither reads config or traces back out.

export const TOKEN_COOKIE = 'meshmedic_token';

export function isSidecarCall(req: IncomingMessage, url: URL): boolean {
  return url.pathname.startsWith('/xds/') || (req.method === 'POST' && url.pathname === '/api/v1/spans');
}

function sameToken(given: string | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieToken(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === TOKEN_COOKIE) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

function bearerToken(req: IncomingMessage): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}

/**
 * True when the request may go on. Otherwise answers 401 (E_UNAUTHORIZED) and returns false.
 * A valid `?token=` sets the cookie (HttpOnly, SameSite=Strict: other sites' pages cannot use it).
 */
export function checkAccess(req: IncomingMessage, res: ServerResponse, url: URL, token: string): boolean {
  if (isSidecarCall(req, url)) return true;
  if (sameToken(bearerToken(req), token) || sameToken(cookieToken(req), token)) return true;
  if (sameToken(url.searchParams.get('token') ?? undefined, token)) {
    res.setHeader('set-cookie', `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`);
    return true;
  }
  res.setHeader('www-authenticate', 'Bearer realm="meshmedic"');
  sendJson(res, 401, {
    error: { code: 'E_UNAUTHORIZED', message: 'this control plane needs its API token: run `meshmedic dashboard` for the URL, or send "Authorization: Bearer <token>" (the token is in the state directory\'s api-token file)' },
  });
  return false;
}
