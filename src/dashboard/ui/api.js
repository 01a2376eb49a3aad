// The control plane's API, as the page reads it. The session cookie (set when the page was
// opened with ?token=) goes with every request: same origin.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function api(path) {
  const res = await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } });
  const text = await res.text();
  const body = text ? JSON.parse(text) : undefined;
  if (!res.ok) throw new ApiError(res.status, body?.error?.code ?? 'E_HTTP', body?.error?.message ?? `HTTP ${res.status}`);
  return body;
}

/** Optional endpoints (diagnosis may be absent): undefined instead of an error when missing. */
export async function apiOptional(path) {
  try {
    return await api(path);
  } catch (e) {
    if (e.status === 404 || e.status === 503) return undefined;
    throw e;
  }
}
