import { KINDS, type KindInfo } from '../api/kinds.js';

// The names `get KIND` accepts, as kubectl does: the kind (any case), its plural, and the short
// names Istio and Kubernetes register (vs, dr, se, svc, ...).

const SHORT_NAMES: Record<string, string> = {
  vs: 'VirtualService', dr: 'DestinationRule', se: 'ServiceEntry', we: 'WorkloadEntry', wg: 'WorkloadGroup',
  gw: 'Gateway', pa: 'PeerAuthentication', ap: 'AuthorizationPolicy', ra: 'RequestAuthentication',
  svc: 'Service', ns: 'Namespace', po: 'Pod', deploy: 'Deployment', cm: 'ConfigMap', sa: 'ServiceAccount', ep: 'Endpoints',
};

const BY_NAME = new Map<string, KindInfo>();
for (const k of [...KINDS].reverse()) {
  // Reversed so that, for names two kinds share (Istio's and the Gateway API's `Gateway`), the first listed wins.
  const lower = k.kind.toLowerCase();
  for (const n of [k.id.toLowerCase(), lower, plural(lower)]) BY_NAME.set(n, k);
}
for (const [short, id] of Object.entries(SHORT_NAMES)) {
  const info = KINDS.find((k) => k.id === id);
  if (info) BY_NAME.set(short, info);
}

function plural(lower: string): string {
  if (lower.endsWith('y')) return `${lower.slice(0, -1)}ies`;
  if (lower.endsWith('s')) return `${lower}es`;
  return `${lower}s`;
}

export function kindByName(name: string): KindInfo | undefined {
  return BY_NAME.get(name.toLowerCase());
}
