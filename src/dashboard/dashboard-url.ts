import type { ControlPlaneRecord } from '../platform/local/state-dir.js';

/** The dashboard's address with the token in it: opening it once sets the session cookie. */
export function dashboardUrl(cp: ControlPlaneRecord, page = 'graph'): string {
  return `${cp.url}/ui/${cp.token ? `?token=${encodeURIComponent(cp.token)}` : ''}#/${page}`;
}
