import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlPlane, type ControlPlaneOptions } from '../../src/controlplane/control-plane.js';
import { applyText } from '../../src/controlplane/apply.js';
import type { Incident, RankedCause } from '../../src/diagnosis/model.js';
import { BOOKINFO, instance } from '../controlplane/fixtures.js';

// A control plane (real config store, registry, incident store and recovery service) holding a
// Bookinfo-shaped mesh with three versions of reviews, for the recovery tests: instances on
// 127.10.23.0/24 (registry data only; the tests that start the API listen on 127.10.23.x).

export const NS = 'bookinfo';

let next = 10;
export const address = () => `127.10.23.${next++}`;

export interface Mesh {
  cp: ControlPlane;
  dir: string;
  close(): Promise<void>;
}

export async function mesh(opts: ControlPlaneOptions = {}, config = ''): Promise<Mesh> {
  const dir = mkdtempSync(join(tmpdir(), 'mm-recovery-'));
  const cp = new ControlPlane({ metrics: { enabled: false }, diagnosis: { databaseFile: join(dir, 'meshmedic.db'), detection: false }, ...opts });
  await put(cp, BOOKINFO + (config ? `---\n${config}` : ''));
  for (const i of [
    instance('productpage-v1-0', 'productpage', 'v1', { address: address() }),
    instance('reviews-v1-0', 'reviews', 'v1', { address: address() }),
    instance('reviews-v2-0', 'reviews', 'v2', { address: address() }),
    instance('reviews-v3-0', 'reviews', 'v3', { address: address() }),
    instance('reviews-v3-1', 'reviews', 'v3', { address: address() }),
    instance('ratings-v1-0', 'ratings', 'v1', { address: address() }),
    instance('ratings-v1-1', 'ratings', 'v1', { address: address() }),
  ]) cp.registry.upsert(i);
  return {
    cp, dir,
    close: async () => {
      await cp.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function put(cp: ControlPlane, yaml: string): Promise<number> {
  const r = await applyText(cp.store, { documents: [{ text: yaml, file: 'test.yaml' }], namespace: NS });
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  return r.version;
}

export function cause(target: RankedCause['target'], mechanism: RankedCause['mechanism'], score = 0.9): RankedCause {
  return { target, mechanism, score, summary: `${target.kind} ${target.instance ?? target.workload ?? target.service ?? target.host ?? target.resource?.name} (${mechanism})`, evidence: [] };
}

/** An open incident with these causes, in the control plane's incident store. */
export function openIncident(cp: ControlPlane, causes: RankedCause[], at: number, subject = 'service reviews.bookinfo', onsetAt = at - 2000): Incident {
  const store = cp.diagnosis.incidents;
  const inc: Incident = {
    id: store.nextId(), status: 'open', namespace: NS, subject, openedAt: at, onsetAt,
    detections: [{ check: 'error-ratio', subject, namespace: NS, value: 0.5, threshold: 0.02, window: '5s', at, text: `${subject}: 50% errors` }],
    causes: [], timeline: [{ at, kind: 'opened', text: `opened: ${subject}` }],
  };
  store.insert(inc);
  store.saveCauses(inc.id, causes, at);
  return store.get(inc.id)!;
}

export const REVIEWS_DR = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: bookinfo}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
  - {name: v3, labels: {version: v3}}
`;

/** The reviews VirtualService with one route to these subsets (weights when given). */
export function reviewsVirtualService(route: Array<{ subset: string; weight?: number }>): string {
  const dest = route.map((d) => `    - {destination: {host: reviews, subset: ${d.subset}}${d.weight !== undefined ? `, weight: ${d.weight}` : ''}}`).join('\n');
  return `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews]
  http:
  - route:
${dest}
`;
}

export const REVIEWS_VS_50_50 = reviewsVirtualService([{ subset: 'v1', weight: 50 }, { subset: 'v3', weight: 50 }]);
