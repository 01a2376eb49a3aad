import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { ControlPlane } from '../../src/controlplane/control-plane.js';
import { IncidentStore } from '../../src/diagnosis/incidents/incident-store.js';
import type { Incident, RankedCause } from '../../src/diagnosis/model.js';
import { runCli } from '../cli/helpers.js';

// The incidents API of a control plane (on 127.10.100.1), the store behind it, and the CLI
// reading the database with no mesh running.

const dir = mkdtempSync(join(tmpdir(), 'mm-incidents-'));
const NOW = 1_795_000_000_000;
let cp: ControlPlane;
let url: string;

const cause: RankedCause = {
  target: { kind: 'service', namespace: 'bookinfo', service: 'ratings' },
  mechanism: 'errors',
  score: 0.97,
  summary: 'service ratings.bookinfo: 100% errors of its own',
  evidence: [{ signal: 'metric', text: 'service ratings answered 100% of 50 requests with errors above its baseline', figures: { errorRatio: 1, requests: 50 }, query: 'sum(rate(x[5s]))' }],
};

function incident(id: string, status: 'open' | 'closed'): Incident {
  return {
    id, status, namespace: 'bookinfo', subject: 'service ratings.bookinfo', openedAt: NOW, onsetAt: NOW - 5000, ...(status === 'closed' && { closedAt: NOW + 30_000 }),
    detections: [{ check: 'error-ratio', subject: 'service ratings.bookinfo', namespace: 'bookinfo', value: 1, threshold: 0.02, window: '5s', at: NOW, text: 'service ratings.bookinfo: 100% errors' }],
    causes: [], timeline: [{ at: NOW, kind: 'opened', text: 'opened: service ratings.bookinfo: 100% errors' }],
  };
}

async function get(path: string, init: { method?: string; body?: string } = {}): Promise<{ status: number; body: any }> {
  const res = await request(`${url}${path}`, { method: (init.method ?? 'GET') as 'GET', body: init.body, headers: init.body ? { 'content-type': 'application/json' } : {} });
  return { status: res.statusCode, body: await res.body.json() };
}

describe('incidents: store, API and CLI', () => {
  before(async () => {
    cp = new ControlPlane({ host: '127.10.100.1', diagnosis: { databaseFile: join(dir, 'meshmedic.db'), detection: false }, metrics: { enabled: false } });
    ({ url } = await cp.start());
    const store = cp.diagnosis.incidents;
    store.insert(incident(store.nextId(), 'closed'));
    store.saveCauses('i1', [cause], NOW + 1000);
    store.markClosed('i1', NOW + 30_000);
    store.insert(incident(store.nextId(), 'open'));
  });

  after(async () => {
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('GET /api/v1/incidents lists newest first with the top cause', async () => {
    const { status, body } = await get('/api/v1/incidents');
    assert.equal(status, 200);
    assert.deepEqual(body.incidents.map((i: any) => [i.id, i.status]), [['i2', 'open'], ['i1', 'closed']]);
    assert.equal(body.incidents[1].topCause.summary, cause.summary);
    assert.equal(body.incidents[1].detections, 1);
    assert.deepEqual((await get('/api/v1/incidents?status=open')).body.incidents.map((i: any) => i.id), ['i2']);
    assert.equal((await get('/api/v1/incidents?status=maybe')).status, 400);
  });

  test('GET /api/v1/incidents/:id has causes with evidence, detections and the timeline', async () => {
    const { status, body } = await get('/api/v1/incidents/i1');
    assert.equal(status, 200);
    assert.deepEqual(body.causes, [cause]);
    assert.equal(body.detections[0].check, 'error-ratio');
    assert.equal(body.timeline[0].kind, 'opened');
    const missing = await get('/api/v1/incidents/i99');
    assert.deepEqual([missing.status, missing.body.error.code], [404, 'E_INCIDENT_NOT_FOUND']);
  });

  test('GET /api/v1/diagnosis answers on demand; a bad window is refused', async () => {
    const { status, body } = await get('/api/v1/diagnosis?namespace=bookinfo&window=30s');
    assert.equal(status, 200);
    assert.deepEqual(body.causes, []);
    assert.equal(body.current.endMs - body.current.startMs, 30_000);
    assert.ok(body.queries.some((q: string) => q.includes('istio_requests_total')));
    const bad = await get('/api/v1/diagnosis?window=2');
    assert.deepEqual([bad.status, bad.body.error.code], [400, 'E_DIAGNOSIS_WINDOW']);
  });

  test('PUT /api/v1/diagnosis/slo merges a partial SLO and refuses a bad one', async () => {
    const put = await get('/api/v1/diagnosis/slo', { method: 'PUT', body: JSON.stringify({ closeAfterMs: 5000, services: { 'ratings.bookinfo': { latencyMs: 100 } } }) });
    assert.equal(put.status, 200);
    assert.equal(put.body.closeAfterMs, 5000);
    assert.equal(put.body.windowMs, 5000);
    assert.deepEqual((await get('/api/v1/diagnosis/slo')).body.services, { 'ratings.bookinfo': { latencyMs: 100 } });
    const bad = await get('/api/v1/diagnosis/slo', { method: 'PUT', body: JSON.stringify({ windowMs: -1 }) });
    assert.deepEqual([bad.status, bad.body.error.code], [400, 'E_SLO']);
  });

  test('the CLI reads incidents from the database when no mesh runs', () => {
    const copy = mkdtempSync(join(tmpdir(), 'mm-incidents-cli-'));
    try {
      const store = new IncidentStore(join(copy, 'meshmedic.db'));
      store.insert(incident(store.nextId(), 'closed'));
      store.saveCauses('i1', [cause], NOW + 1000);
      store.close();
      const env = { MESHMEDIC_HOME: copy };
      const list = runCli(['incidents', '-o', 'json'], undefined, env);
      assert.equal(list.code, 0, list.stderr);
      assert.deepEqual(JSON.parse(list.stdout).map((i: any) => i.id), ['i1']);
      const show = runCli(['incidents', 'show', 'i1'], undefined, env);
      assert.equal(show.code, 0, show.stderr);
      assert.match(show.stdout, /1\. \[0\.97\] service ratings\.bookinfo \(errors\)/);
      assert.match(show.stdout, /- metric: service ratings answered 100% of 50 requests/);
      assert.match(show.stdout, /query: sum\(rate\(x\[5s\]\)\)/);
      const missing = runCli(['incidents', 'show', 'i9'], undefined, env);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /E_INCIDENT_NOT_FOUND/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
