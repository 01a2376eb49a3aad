import { api } from './api.js';
import { h, header } from './format.js';
import type { MeshSummary } from './types.js';

// The seed's counts (GET /api/v1/dashboard/summary): services discovered, endpoints monitored,
// security policies in force.

export async function summaryPage(root: HTMLElement): Promise<void> {
  const s = await api<MeshSummary>('/api/v1/dashboard/summary');
  const tile = (id: string, label: string, value: number, sub?: string) =>
    h('div', { class: 'card tile', id }, h('div', { class: 'tile-value' }, String(value)), h('div', { class: 'tile-label' }, label), sub ? h('div', { class: 'muted small' }, sub) : null);
  const kinds = Object.entries(s.securityPoliciesByKind).map(([k, n]) => `${n} ${k}`).join(', ');
  root.append(
    header('Mesh summary', `Config version ${s.configVersion} · ${s.resources} resources in the store`),
    h('div', { class: 'tiles' },
      tile('services-discovered', 'services discovered', s.servicesDiscovered),
      tile('endpoints-monitored', 'endpoints monitored', s.endpointsMonitored, `${s.endpointsHealthy} ready`),
      tile('security-policies', 'security policies in force', s.securityPolicies, kinds || 'no PeerAuthentication, AuthorizationPolicy or RequestAuthentication')),
  );
}
