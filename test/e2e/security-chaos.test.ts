import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool, request } from 'undici';
import { causeMatches, type ExpectedRef, type TopologyView } from '../../src/diagnosis/ground-truth.js';
import { describeTarget, type Incident, type RankedCause } from '../../src/diagnosis/model.js';
import type { ConfigRef, Injection } from '../../src/platform/local/chaos/types.js';
import type { RecoveryAction } from '../../src/recovery/model.js';
import { meshHome, sleep, until } from './mesh-home.js';

// A wrong AuthorizationPolicy, end to end on a real local mesh (`meshmedic up`, real sidecars
// with mutual TLS, addresses in 127.30.0.0/16): under steady load `chaos inject bad-authz` puts
// an ALLOW policy on `store` that allows a principal nobody has, so store's sidecar refuses its
// caller `front` (403 `RBAC: access denied`); detection opens an incident whose top cause is that
// policy at the store version the injection made (chaos's ground truth), not store nor front;
// `meshmedic recover` reverts the change (deletes the policy), verification sees the 403s stop,
// store answers 200 again and the policy is gone from the config store. Then the same for
// `chaos inject bad-mtls --mode strict`: callers told to send plaintext (a DestinationRule tls
// DISABLE), then a PeerAuthentication STRICT on store: front's sidecar fails to connect (503
// UC); the top cause is the PeerAuthentication (not the network path), and reverting it heals.

const NS = 'sec';
const TOPOLOGY = `
defaults:
  namespace: ${NS}
services:
- name: front
  isEntrypoint: true
  script:
  - call: {service: store, timeout: 2s}
- name: store
  latency: 2ms
`;

const mesh = meshHome('secchaos', '127.30');
const { home, ok, cliAsync, api } = mesh;

let front: Pool;
let storeAddress = '';
let topo: TopologyView;
let load: NodeJS.Timeout | undefined;
let failed = false;
const outcomes: Array<{ at: number; status: number }> = [];

/** One request straight to store's sidecar (plaintext, no principal: PERMISSIVE takes it): its status and body. */
async function callStore(): Promise<{ status: number; body: string }> {
  const r = await request(`http://${storeAddress}:8080/`, { signal: AbortSignal.timeout(5000) });
  return { status: r.statusCode, body: await r.body.text() };
}

const policies = () => resources('AuthorizationPolicy');

describe('security chaos: a wrong AuthorizationPolicy is diagnosed as that change and reverted', { timeout: 200_000 }, () => {
  before(async () => {
    writeFileSync(join(home, 'topology.yaml'), TOPOLOGY);
    writeFileSync(join(home, 'slo.yaml'), 'baselineMs: 10000\ncloseAfterMs: 4000\n');
    writeFileSync(join(home, 'recovery.yaml'), 'verifyWindowMs: 6000\n');
    ok(['up', '-f', join(home, 'topology.yaml'), '--timeout', '60']);
    const status = JSON.parse(ok(['status', '-o', 'json'])) as { instances: Array<{ name: string; namespace: string; workload: string; address: string; labels: Record<string, string> }> };
    topo = { instances: status.instances.map((i) => ({ namespace: i.namespace, name: i.name, workload: i.workload, service: i.labels.app })) };
    storeAddress = status.instances.find((i) => i.name === 'store-v1-0')!.address;
    front = new Pool(`http://${status.instances.find((i) => i.name === 'front-v1-0')!.address}:8080`, { connections: 8 });
    // 30 requests a second; statuses kept to check the outcome.
    load = setInterval(() => {
      for (let i = 0; i < 3; i++)
        front.request({ method: 'GET', path: '/', signal: AbortSignal.timeout(5000) }).then(
          async (r) => {
            await r.body.dump();
            outcomes.push({ at: Date.now(), status: r.statusCode });
          },
          () => outcomes.push({ at: Date.now(), status: 0 }),
        );
    }, 100);
  });

  after(async () => {
    if (load) clearInterval(load);
    await front?.destroy();
    mesh.teardown({ failed });
  });

  const guarded = (fn: () => Promise<void>) => async () => {
    try {
      await fn();
    } catch (e) {
      failed = true;
      throw e;
    }
  };

  test('bad-authz on store -> incident blaming the policy at its version -> recover reverts it -> 200 again', guarded(authzScenario));
  test('bad-mtls (STRICT against plaintext callers) on store -> incident blaming the PeerAuthentication -> recover reverts it', guarded(mtlsScenario));

  async function authzScenario(): Promise<void> {
    // A baseline for detection (a window plus half a baseline of scrapes).
    await sleep(11_000);
    assert.equal((await callStore()).status, 200, 'store answers before the fault');
    assert.deepEqual(await policies(), [], 'no AuthorizationPolicy before the fault');

    const inj = await inject(['bad-authz', '-t', 'store'], 'AuthorizationPolicy');
    const policyName = (inj.target as ConfigRef).resource.name;
    assert.deepEqual((await policies()).map((p) => p.name), [policyName], 'the wrong policy is in the store');
    // In force as inject returns (it waits, up to 5 s, for the sidecars to take it): store's sidecar refuses as Envoy does.
    const denied = await until('store refuses', callStore, (r) => r.status !== 200, 10_000);
    assert.equal(denied.status, 403);
    assert.equal(denied.body, 'RBAC: access denied');

    const incident = await diagnosed(inj, /[\d.]+% of \d+ requests to store were refused with 403/);
    // The caller whose requests fail because of the refusals is not blamed in its place: behind the policy
    // (its score is halved by the ranker; a sampled trace whose deepest failing span is front's may lift it back a little).
    const front = incident.causes.find((c) => c.target.service === 'front');
    assert.ok(!front || front.score < incident.causes[0].score, show(incident.causes));
    await recovered(inj, incident);
    assert.deepEqual(await policies(), [], 'the policy is deleted');
    await until('store answers 200 after recovery', callStore, (r) => r.status === 200, 10_000);

    // Clearing the injection after recovery deleted its policy changes nothing more (and fails on nothing).
    const cleared = JSON.parse((await cliAsync(['chaos', 'list', '-o', 'json'])).stdout) as Injection[];
    assert.equal(cleared.find((i) => i.id === inj.id)?.state, 'active');
    const clear = await cliAsync(['chaos', 'clear', inj.id]);
    assert.equal(clear.code, 0, clear.stderr);
    const ended = (JSON.parse((await cliAsync(['chaos', 'list', '-o', 'json'])).stdout) as Injection[]).find((i) => i.id === inj.id)!;
    assert.equal(ended.state, 'cleared');
    assert.doesNotMatch(ended.endReason ?? '', /not everything could be undone/, ended.endReason);

    // deny-all: a DENY policy with a rule {} refuses too, and `chaos clear` deletes it.
    const deny = await cliAsync(['chaos', 'inject', 'bad-authz', '-t', 'store', '-n', NS, '--mode', 'deny-all', '-d', '60s', '-o', 'json']);
    assert.equal(deny.code, 0, deny.stderr);
    const denyInj = JSON.parse(deny.stdout) as Injection;
    assert.equal(denyInj.effects.policy && (denyInj.effects.policy as { action: string }).action, 'DENY');
    const refused = await until('store refuses under deny-all', callStore, (r) => r.status !== 200, 10_000);
    assert.deepEqual(refused, { status: 403, body: 'RBAC: access denied' });
    assert.equal((await cliAsync(['chaos', 'clear', denyInj.id])).code, 0);
    assert.deepEqual(await policies(), [], 'chaos clear deleted the policy');
    await until('store answers 200 once cleared', callStore, (r) => r.status === 200, 10_000);
  }

  async function mtlsScenario(): Promise<void> {
    // Nothing left of the first scenario (even if it failed half-way), its incident closed, and a
    // baseline's length of healthy mesh behind it.
    assert.equal((await cliAsync(['chaos', 'clear', '--all'])).code, 0);
    const last = await until('no open incident', () => api<{ incidents: Array<{ namespace: string; closedAt?: number }> }>('/api/v1/incidents?limit=5'), (r) => r.incidents.every((i) => i.closedAt !== undefined), 30_000);
    const closedAt = Math.max(0, ...last.incidents.map((i) => i.closedAt ?? 0));
    await sleep(Math.max(0, closedAt + 11_000 - Date.now()));

    const inj = await inject(['bad-mtls', '-t', 'store', '--mode', 'strict'], 'PeerAuthentication');
    const effects = inj.effects.config as { callers: { version: number; resource: string } };
    assert.equal(effects.callers.resource, `DestinationRule ${NS}/store`);
    assert.ok(effects.callers.version < (inj.target as ConfigRef).version!, 'the callers\' side was set before the mistake');
    // STRICT refuses plaintext: a client without a sidecar has its connection closed, front's sidecar answers 503 UC.
    await until('store refuses plaintext', () => callStore().catch((e: Error) => ({ status: 0, body: e.message })), (r) => r.status === 0, 10_000);

    const incident = await diagnosed(inj, /[\d.]+% of \d+ requests to store failed to connect \(503 UC\/UF/);
    for (const c of incident.causes.filter((x) => x.mechanism === 'network' || x.target.service === 'front')) assert.ok(c.score < incident.causes[0].score, show(incident.causes));
    await recovered(inj, incident);
    assert.deepEqual(await resources('PeerAuthentication'), [], 'the PeerAuthentication is deleted');
    // Clearing puts the callers' DestinationRule back as it was (there was none).
    assert.equal((await cliAsync(['chaos', 'clear', inj.id])).code, 0);
    assert.deepEqual(await resources('DestinationRule'), [], 'chaos clear deleted the DestinationRule it created');
    await until('store answers 200 once cleared', callStore, (r) => r.status === 200, 10_000);
  }
});

async function resources(kind: string): Promise<Array<{ namespace: string; name: string }>> {
  return (await api<{ items: Array<{ namespace: string; name: string }> }>(`/api/v1/resources?kind=${kind}&namespace=${NS}`)).items;
}

/** `chaos inject ... -o json`: the injection, its ground truth a security policy of that kind at a store version. */
async function inject(args: string[], kind: string): Promise<Injection> {
  const r = await cliAsync(['chaos', 'inject', ...args, '-n', NS, '-d', '120s', '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const inj = JSON.parse(r.stdout) as Injection;
  assert.equal(inj.expectedCause.category, 'security-policy');
  assert.ok(inj.target.kind === 'config' && inj.target.resource.kind === kind && inj.target.version! > 0, JSON.stringify(inj.target));
  return inj;
}

/** The incident the fault opens, once its top cause is the injected policy at its version, with the evidence. */
async function diagnosed(inj: Injection, symptom: RegExp): Promise<Incident> {
  const config = inj.target as ConfigRef;
  const summary = await until(
    'an incident opens',
    () => api<{ incidents: Array<{ id: string; namespace: string; openedAt: number; closedAt?: number }> }>('/api/v1/incidents?limit=5').then((r) => r.incidents.find((i) => i.namespace === NS && i.openedAt >= inj.startedAt - 1500)),
    (i) => i !== undefined,
    30_000,
  );
  const incident = await until(
    `the top cause is ${inj.expectedCause.label}`,
    () => api<Incident>(`/api/v1/incidents/${summary!.id}`),
    // The ranking is redone every second as the window fills with the fault: judged once the top cause has
    // the evidence of a few seconds of it (score 0.5: about a 7% excess share over 10 requests or more).
    (i) => i.causes.length > 0 && causeMatches(i.causes[0], inj.expectedCause as unknown as ExpectedRef, topo) && i.causes[0].score >= 0.5,
    20_000,
  ).catch(async (e) => {
    const last = await api<Incident>(`/api/v1/incidents/${summary!.id}`);
    throw new Error(`${(e as Error).message}\ncauses:\n${show(last.causes)}`);
  });
  const top = incident.causes[0];
  assert.equal(top.target.kind, 'security-policy');
  assert.equal(describeTarget(top.target), inj.expectedCause.label);
  const texts = top.evidence.map((e) => e.text).join('\n');
  assert.match(texts, symptom, texts);
  assert.match(texts, new RegExp(`${config.resource.kind} ${NS}/${config.resource.name} was added at version ${config.version}`), texts);
  // One cause for one change: the policy is not named twice (as a plain config change too).
  assert.equal(incident.causes.filter((c) => c.target.resource?.kind === config.resource.kind && c.target.resource.name === config.resource.name).length, 1, show(incident.causes));
  const during = await until('10 answers of front under the fault', async () => outcomes.filter((o) => o.at > inj.startedAt + 500), (xs) => xs.length >= 10, 10_000);
  assert.ok(during.every((o) => o.status !== 200), `front's answers under the fault: ${JSON.stringify(count(during))}`);
  console.log(`e2e security chaos: ${inj.id} ${inj.type}: front answered ${JSON.stringify(count(during))}; incident ${incident.id} opened +${incident.openedAt - inj.startedAt} ms; causes:\n${show(incident.causes)}`);
  return incident;
}

/** `meshmedic recover` for the incident: revert-config of the injected change, verified; front answers 200 after. */
async function recovered(inj: Injection, incident: Incident): Promise<void> {
  const config = inj.target as ConfigRef;
  const r = await cliAsync(['recover', '--incident', incident.id, '-o', 'json', '--timeout', '60']);
  assert.equal(r.code, 0, `recover: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  const actions = JSON.parse(r.stdout) as RecoveryAction[];
  const verified = actions.find((a) => a.state === 'verified');
  assert.ok(verified, JSON.stringify(actions.map((a) => [a.id, a.kind, a.state, a.reason])));
  assert.equal(verified.kind, 'revert-config', JSON.stringify(verified));
  assert.match(verified.summary, new RegExp(`revert config version ${config.version} \\(${config.resource.kind} ${NS}/${config.resource.name}: delete it\\)`));
  // The figures' errorRatio is the 5xx share of store (a 403 is a client error, and refused connections
  // never reach store's sidecar); the SLO checks (store's 4xx, front's errors) fail before and hold after.
  assert.ok(verified.before && !verified.before.healthy, `the fault was in force when the action was applied: ${JSON.stringify(verified.before)}`);
  assert.ok(verified.after && verified.after.healthy && verified.after.errorRatio < 0.02, JSON.stringify(verified));
  console.log(`e2e security chaos: ${verified.id} ${verified.kind} verified ${verified.endedAt! - inj.startedAt} ms after the injection; before ${JSON.stringify(verified.before)} after ${JSON.stringify(verified.after)}`);
  const from = Date.now();
  await sleep(2000);
  const lately = outcomes.filter((o) => o.at >= from);
  assert.ok(lately.length > 20, `${lately.length} answers in 2 s`);
  assert.deepEqual(lately.filter((o) => o.status !== 200), [], 'no error after recovery');
}

function count(xs: ReadonlyArray<{ status: number }>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x.status] = (out[x.status] ?? 0) + 1;
  return out;
}

function show(causes: readonly RankedCause[]): string {
  return causes.slice(0, 5).map((c) => `  ${c.score.toFixed(3)} ${describeTarget(c.target)} [${c.mechanism}]: ${c.evidence.map((e) => e.text).join(' | ')}`).join('\n');
}
