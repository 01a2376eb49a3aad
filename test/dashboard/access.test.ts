import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ControlPlane } from '../../src/controlplane/control-plane.js';
import { apiTokenPath, loadOrCreateApiToken, readApiToken } from '../../src/dashboard/access-token.js';

// The API token over a real socket on 127.10.90.1: without it the API and the UI answer 401;
// with it (bearer header, the cookie, or ?token= once) they answer; the sidecars' two calls
// (xDS, span ingestion) are let through without it.

const HOST = '127.10.90.1';
const home = mkdtempSync(join(tmpdir(), 'mm-dashboard-access-'));
let cp: ControlPlane;
let url: string;
let token: string;

before(async () => {
  token = loadOrCreateApiToken(home, {});
  cp = new ControlPlane({ host: HOST, port: 0, token });
  url = (await cp.start()).url;
});

after(async () => {
  await cp.stop();
  rmSync(home, { recursive: true, force: true });
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${url}${path}`, { headers, redirect: 'manual' });

describe('the API token', () => {
  test('is made once, kept with mode 0600, and reused; $MESHMEDIC_API_TOKEN overrides it', () => {
    assert.match(token, /^[A-Za-z0-9_-]{32}$/);
    assert.equal(statSync(apiTokenPath(home)).mode & 0o777, 0o600);
    assert.equal(loadOrCreateApiToken(home, {}), token);
    const other = mkdtempSync(join(tmpdir(), 'mm-dashboard-access-env-'));
    try {
      assert.equal(loadOrCreateApiToken(other, { MESHMEDIC_API_TOKEN: 'configured-token' }), 'configured-token');
      assert.equal(readApiToken(other), 'configured-token');
      assert.equal(statSync(apiTokenPath(other)).mode & 0o777, 0o600);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  test('without it the API and the UI answer 401 with E_UNAUTHORIZED', async () => {
    for (const path of ['/api/v1/status', '/api/v1/resources', '/api/v1/graph', '/api/v1/dashboard/summary', '/ui/', '/ui/app.js', '/']) {
      const res = await get(path);
      assert.equal(res.status, 401, path);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'E_UNAUTHORIZED', path);
    }
    const wrong = await get('/api/v1/status', { authorization: `Bearer ${token}x` });
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
    const post = await fetch(`${url}/api/v1/apply`, { method: 'POST', body: 'kind: x' });
    assert.equal(post.status, 401);
    await post.body?.cancel();
  });

  test('with the bearer token the API answers', async () => {
    const res = await get('/api/v1/status', { authorization: `Bearer ${token}` });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { configVersion: number }).configVersion, cp.store.version);
  });

  test('?token= opens the UI and sets an HttpOnly SameSite=Strict cookie the page then uses', async () => {
    const page = await get(`/ui/?token=${encodeURIComponent(token)}`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script type="module" src="app.js">/);
    const cookie = page.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^meshmedic_token=[^;]+; Path=\/; HttpOnly; SameSite=Strict$/);
    const jar = { cookie: cookie.split(';')[0] };
    const js = await get('/ui/app.js', jar);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
    await js.body?.cancel();
    const summary = await get('/api/v1/dashboard/summary', jar);
    assert.equal(summary.status, 200);
    assert.equal(((await summary.json()) as { endpointsMonitored: number }).endpointsMonitored, 0);
    const vendor = await get('/ui/vendor/cytoscape.js', jar);
    assert.equal(vendor.status, 200);
    await vendor.body?.cancel();
    const escape = await get('/ui/..%2F..%2Fpackage.json', jar);
    assert.equal(escape.status, 404);
    await escape.body?.cancel();
  });

  test('sidecars post spans and open the xDS stream without it', async () => {
    const spans = await fetch(`${url}/api/v1/spans`, { method: 'POST', body: '[]', headers: { 'content-type': 'application/json' } });
    assert.notEqual(spans.status, 401);
    await spans.body?.cancel();
    const traces = await get('/api/v1/traces');
    assert.equal(traces.status, 401, 'reading traces back still needs the token');
    await traces.body?.cancel();
    const xds = await get('/xds/nonexistent-node');
    assert.notEqual(xds.status, 401);
    await xds.body?.cancel();
  });
});
