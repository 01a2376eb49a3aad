import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'undici';
import type { RecoveryAction } from '../../src/recovery/model.js';
import { meshHome, sleep, until } from './mesh-home.js';

// Recovery on a real local mesh (`meshmedic up`, real processes, addresses in 127.23.0.0/16):
// under steady load, a bad version of `store` is rolled out with `meshmedic chaos inject
// bad-version` (a new version answering 500, half of the traffic sent to it); detection opens
// an incident, `meshmedic recover -r store` plans, applies and verifies an action, and the
// entry service answers without errors again. Short verification window (8 s) to keep it brief.

const TOPOLOGY = `
defaults:
  namespace: rec
services:
- name: front
  isEntrypoint: true
  script:
  - call: {service: store, timeout: 2s}
- name: store
  latency: 3ms
  versions:
  - name: v1
    replicas: 1
  - name: v2
    replicas: 1
`;

const mesh = meshHome('recovery', '127.23');
const { home, ok, cliAsync } = mesh;

let front: Pool;
let failed = false;
let load: NodeJS.Timeout | undefined;
const outcomes: number[] = [];

describe('recovery on the local mesh: a bad version is detected, recovered and verified', { timeout: 120_000 }, () => {
  before(async () => {
    writeFileSync(join(home, 'topology.yaml'), TOPOLOGY);
    writeFileSync(join(home, 'slo.yaml'), 'baselineMs: 10000\ncloseAfterMs: 4000\n');
    writeFileSync(join(home, 'recovery.yaml'), 'verifyWindowMs: 8000\n');
    ok(['up', '-f', join(home, 'topology.yaml'), '--timeout', '60']);
    const status = JSON.parse(ok(['status', '-o', 'json'])) as { instances: Array<{ name: string; address: string }> };
    front = new Pool(`http://${status.instances.find((i) => i.name === 'front-v1-0')!.address}:8080`, { connections: 8 });
    // 30 requests a second, answers kept (status codes) to check the outcome.
    load = setInterval(() => {
      for (let i = 0; i < 3; i++) front.request({ method: 'GET', path: '/', signal: AbortSignal.timeout(5000) }).then(async (r) => {
        await r.body.dump();
        outcomes.push(r.statusCode);
      }, () => outcomes.push(0));
    }, 100);
  });

  after(async () => {
    if (load) clearInterval(load);
    await front?.destroy();
    mesh.teardown({ failed });
  });

  test('chaos bad-version on store -> incident -> recover -r store -> verified', async () => {
    try {
      await scenario();
    } catch (e) {
      failed = true;
      throw e;
    }
  });

  async function scenario(): Promise<void> {
    // Nothing to recover yet: exit 3 and the error's code.
    const none = await cliAsync(['recover', '-n', 'rec', '--dry-run']);
    assert.equal(none.code, 3, `${none.stdout}\n${none.stderr}`);
    assert.match(none.stderr, /no open incident in namespace rec: nothing to recover .*\[E_RECOVERY_NO_INCIDENT\]/);
    // Detection needs a baseline: a window plus half a baseline of scrapes (10 s).
    await sleep(11_000);
    const injected = await cliAsync(['chaos', 'inject', 'bad-version', '-t', 'store', '-n', 'rec', '-d', '90s']);
    assert.equal(injected.code, 0, injected.stderr);
    const injectedAt = Date.now();
    // The plan is ready once the incident is open and blames store.
    const plan = await until('a plan for store', async () => {
      const r = await cliAsync(['recover', '-n', 'rec', '-r', 'store', '--dry-run', '-o', 'json']);
      return r.code === 0 ? (JSON.parse(r.stdout) as { incident: string; actions: Array<{ kind: string; rejected?: string }> }) : undefined;
    }, (p) => p !== undefined && p.actions.some((a) => !a.rejected), 30_000);
    // The incident the plan was made for (detection may close it while the fault goes on: its errors are judged anew).
    const r = await cliAsync(['recover', '--incident', plan!.incident, '-r', 'store', '-o', 'json', '--timeout', '60']);
    assert.equal(r.code, 0, `recover: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    const actions = JSON.parse(r.stdout) as RecoveryAction[];
    const verified = actions.find((a) => a.state === 'verified');
    assert.ok(verified, JSON.stringify(actions.map((a) => [a.id, a.kind, a.state, a.reason])));
    assert.ok(verified.before && verified.before.errorRatio > 0.1 && !verified.before.healthy, `the fault was in force when the action was applied: ${JSON.stringify(verified.before)}`);
    assert.ok(verified.after && verified.after.healthy && verified.after.errorRatio < 0.02 && verified.after.rps > 10, JSON.stringify(verified));
    const recoveredAt = verified.endedAt!;
    console.log(`e2e recovery: incident ${plan!.incident}; ${actions.map((a) => `${a.id} ${a.kind} ${a.state}`).join(', ')}; injected -> verified ${recoveredAt - injectedAt} ms; before ${JSON.stringify(verified.before)} after ${JSON.stringify(verified.after)}`);

    // The entry service answers without errors after the action (the fault is still injected).
    const from = outcomes.length;
    await sleep(3000);
    const lately = outcomes.slice(from);
    assert.ok(lately.length > 30, `${lately.length} answers in 3 s`);
    assert.equal(lately.filter((c) => c !== 200).length, 0, `errors after recovery: ${JSON.stringify(lately.filter((c) => c !== 200))}`);

    const shown = await cliAsync(['incidents', 'show', plan!.incident]);
    assert.equal(shown.code, 0, shown.stderr);
    const show = shown.stdout;
    assert.match(show, new RegExp(`Recovery actions \\(\\d+\\):[\\s\\S]*${verified.id} VERIFIED[\\s\\S]*before: +errors [\\d.]+%[\\s\\S]*after: +errors 0\\.0%`), show);
  }
});
