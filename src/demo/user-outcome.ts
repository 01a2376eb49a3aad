// What one Bookinfo page load means to its user. productpage degrades instead of failing: when
// details or reviews fail it still answers 200 with "Sorry, product reviews are currently
// unavailable" in place of that box (and reviews shows no stars when ratings fails). So a
// request counts as failed for the user when it got no answer, a non-2xx status, a page with
// any part replaced by its fallback, or an answer slower than the user waits for.

export interface Outcome {
  ok: boolean;
  /** Why it failed: `503`, `degraded (reviews)`, `slow (2.1 s)`, `timeout`, `connection refused`. */
  reason?: string;
}

/** Pages slower than this count as failed (a user gives up or reloads). */
export const SLOW_MS = 1000;

export function classifyAnswer(status: number, body: string, ms: number, slowMs = SLOW_MS): Outcome {
  if (status < 200 || status > 299) return { ok: false, reason: String(status) };
  const degraded = degradedPart(body);
  if (degraded) return { ok: false, reason: `degraded (${degraded})` };
  if (ms > slowMs) return { ok: false, reason: `slow (${(ms / 1000).toFixed(1)} s)` };
  return { ok: true };
}

export function classifyError(e: unknown): Outcome {
  const err = e as { name?: string; code?: string; message?: string };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError' || err?.code === 'UND_ERR_HEADERS_TIMEOUT' || err?.code === 'UND_ERR_BODY_TIMEOUT') return { ok: false, reason: 'timeout' };
  if (err?.code === 'ECONNREFUSED') return { ok: false, reason: 'connection refused' };
  if (err?.code === 'ECONNRESET' || err?.code === 'UND_ERR_SOCKET') return { ok: false, reason: 'connection reset' };
  return { ok: false, reason: err?.code ?? err?.message ?? 'error' };
}

/** The first call in the page's answer tree that fell back, by service name; undefined when none did. */
export function degradedPart(body: string): string | undefined {
  if (!body.includes('"fallback"')) return undefined; // fast path: most pages are whole
  let tree: unknown;
  try {
    tree = JSON.parse(body);
  } catch {
    return 'unreadable page';
  }
  return findFallback(tree);
}

function findFallback(node: unknown): string | undefined {
  const calls = (node as { calls?: unknown })?.calls;
  if (!Array.isArray(calls)) return undefined;
  for (const c of calls as Array<{ service?: string; fallback?: string; body?: unknown }>) {
    if (typeof c.fallback === 'string') return c.service ?? 'a dependency';
    const inner = findFallback(c.body);
    if (inner) return inner;
  }
  return undefined;
}
