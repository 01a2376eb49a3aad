// The control plane's API, as the page reads it. The session cookie (set when the page was
// opened with ?token=) goes with every request: same origin.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, credentials: 'same-origin', headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const parsed = text ? JSON.parse(text) : undefined;
  if (!res.ok) throw new ApiError(res.status, parsed?.error?.code ?? 'E_HTTP', parsed?.error?.message ?? `HTTP ${res.status}`);
  return parsed as T;
}

export const api = <T>(path: string): Promise<T> => call<T>('GET', path);

/** A change made from the page (approve, roll back): POST with a JSON body. */
export const post = <T>(path: string, body: unknown = {}): Promise<T> => call<T>('POST', path, body);

/** Optional endpoints (diagnosis may be absent): undefined instead of an error when missing. */
export async function apiOptional<T>(path: string): Promise<T | undefined> {
  try {
    return await api<T>(path);
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 503)) return undefined;
    throw e;
  }
}
