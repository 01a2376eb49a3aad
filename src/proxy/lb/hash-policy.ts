import type { HashPolicy } from '../../api/snapshot.js';
import type { HttpStream } from '../http-stream.js';
import { murmur3 } from './hash.js';

// The request key of Istio's consistentHash (Envoy's route hash_policy): a header, a cookie,
// the source IP or a query parameter. No key: undefined (the balancer then picks at random).
// A cookie policy with a ttl generates the cookie when the request has none and asks the
// router to set it on the response, so the client sticks from its next request on.

export type HashKeyFunction = (s: HttpStream) => number | undefined;

export function compileHashPolicy(p: HashPolicy | undefined): HashKeyFunction | undefined {
  if (!p) return undefined;
  if (p.header) {
    const name = p.header.toLowerCase();
    return (s) => {
      const v = s.headers[name];
      if (v === undefined) return undefined;
      return murmur3(typeof v === 'string' ? v : v.join(','));
    };
  }
  if (p.cookie) {
    const { name, ttlMs, path } = p.cookie;
    return (s) => {
      const v = cookieValue(s.headers.cookie, name);
      if (v !== undefined) return murmur3(v);
      if (ttlMs === undefined) return undefined;
      // Envoy's generated value: a hash of the downstream connection's addresses, so streams of one connection agree.
      const sock = s.req.socket;
      const generated = murmur3(`${sock.remoteAddress}:${sock.remotePort}${sock.localAddress}:${sock.localPort}`).toString(16).padStart(8, '0');
      s.setCookie = setCookieValue(name, generated, path, ttlMs);
      return murmur3(generated);
    };
  }
  if (p.sourceIp) return (s) => murmur3(s.remoteAddress);
  if (p.queryParameter) {
    const q = p.queryParameter;
    return (s) => {
      const v = s.queryParam(q);
      return v === undefined ? undefined : murmur3(v);
    };
  }
  return undefined;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const v = part.slice(eq + 1).trim();
      return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
    }
  }
  return undefined;
}

/** Envoy's Set-Cookie for a generated hash cookie: quoted value, Max-Age in seconds (0 ms: a session cookie), HttpOnly. */
function setCookieValue(name: string, value: string, path: string | undefined, ttlMs: number): string {
  let c = `${name}="${value}"`;
  if (ttlMs > 0) c += `; Max-Age=${Math.floor(ttlMs / 1000)}`;
  if (path) c += `; Path=${path}`;
  return c + '; HttpOnly';
}
