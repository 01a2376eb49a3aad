import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { causeMatches, type ExpectedRef } from '../../src/diagnosis/ground-truth.js';
import { localize } from '../../src/diagnosis/localization/localize.js';
import { describeTarget, type RankedCause } from '../../src/diagnosis/model.js';
import type { ConfigChangeSignal, SignalSnapshot } from '../../src/diagnosis/signals/snapshot.js';
import { expectedCause } from '../../src/platform/local/chaos/ground-truth.js';
import { BASELINE, bookinfo, CURRENT, DETAILS, fqdn, PP, readyInstances, snapshotOf, type Call } from './snapshot-fixture.js';

// The security-policy cause (403s after an AuthorizationPolicy change), on SignalSnapshots built
// by hand: it is the top cause, its callers are not blamed in its place, one change is one cause
// (however many services it refuses), and it matches chaos's bad-authz ground truth.

const show = (causes: RankedCause[]) => causes.slice(0, 6).map((c) => `${c.score.toFixed(3)} ${describeTarget(c.target)} [${c.mechanism}]`).join('\n');
const run = (current: Call[], changes: ConfigChangeSignal[], extra: Partial<SignalSnapshot> = {}) =>
  localize(snapshotOf({ current, baseline: bookinfo(), instances: readyInstances([...current, ...bookinfo()]), extra: { configChanges: changes, ...extra } }));

const policy = (o: Partial<ConfigChangeSignal> = {}): ConfigChangeSignal => ({
  version: 9, at: CURRENT.startMs - 200, type: 'added', resource: { kind: 'AuthorizationPolicy', namespace: 'bookinfo', name: 'details-chaos-authz' },
  hosts: [], workloads: ['bookinfo/app=details'], details: ['AuthorizationPolicy added'], aspects: ['authorization'], ...o,
});

/** details refuses productpage (403 on every call); productpage then fails its own requests (500). */
const refused = (services: string[], share = 1): Call[] =>
  bookinfo().map((c) => (services.includes(c.service) ? { ...c, errors: share, code: '403' } : c.service === 'productpage' ? { ...c, errors: Math.min(1, share) } : c));

/**
 * Half of productpage's connections to details fail in its own sidecar (503 UC, reported by the
 * caller only; the other half get through): mutual TLS modes that do not match, on some connections.
 */
const mismatched = (): Call[] =>
  bookinfo().flatMap((c): Call[] =>
    c.service === 'details' ? [{ ...c, rps: c.rps / 2 }, { ...c, rps: c.rps / 2, flags: 'UC', code: '503', flagAt: 'source' }] : c.service === 'productpage' ? [{ ...c, errors: 0.5 }] : [c],
  );

describe('security-policy cause: a wrong AuthorizationPolicy', () => {
  test('403s after the policy was added: the policy at its version is first, with the 403 share, the refused caller and the change', () => {
    const causes = run(refused(['details']), [policy()]);
    const top = causes[0];
    assert.equal(describeTarget(top.target), 'security policy AuthorizationPolicy bookinfo/details-chaos-authz (version 9)', show(causes));
    assert.equal(top.mechanism, 'denied');
    const texts = top.evidence.map((e) => e.text).join('\n');
    assert.match(texts, /100% of \d+ requests to details were refused with 403 \(gRPC: PERMISSION_DENIED\) \(before: 0%\); refused callers: productpage-v1 \(\d+\)/, texts);
    assert.match(texts, /AuthorizationPolicy bookinfo\/details-chaos-authz was added at version 9, 0\.2 s before the anomaly window began: AuthorizationPolicy added/, texts);
    assert.ok(top.evidence.every((e) => Object.keys(e.figures).length > 0));
  });

  test('on gRPC the refusals are grpc-status 7 on HTTP 200: the policy is still first', () => {
    const grpc = bookinfo().map((c) => (c.service === 'details' ? { ...c, errors: 1, code: '200', grpcStatus: '7' } : c.service === 'productpage' ? { ...c, errors: 1 } : c));
    const causes = run(grpc, [policy()]);
    assert.equal(describeTarget(causes[0].target), 'security policy AuthorizationPolicy bookinfo/details-chaos-authz (version 9)', show(causes));
  });

  test('the caller whose requests fail because of the refusals scores at most half of the policy', () => {
    const causes = run(refused(['details']), [policy()]);
    const pp = causes.find((c) => c.target.service === 'productpage');
    assert.ok(pp, `productpage's own errors still appear:\n${show(causes)}`);
    assert.ok(pp.score <= causes[0].score * 0.5 + 1e-3, show(causes));
    assert.ok(pp.evidence.some((e) => /refused by AuthorizationPolicy bookinfo\/details-chaos-authz/.test(e.text)), pp.evidence.map((e) => e.text).join('\n'));
  });

  test('one change is one cause: a namespace-wide policy refusing two services, named on the worst-hit one', () => {
    const causes = run(refused(['details', 'ratings']).map((c) => (c.service === 'ratings' ? { ...c, errors: 0.5 } : c)), [policy({ workloads: ['bookinfo/*'], resource: { kind: 'AuthorizationPolicy', namespace: 'bookinfo', name: 'deny-all' } })]);
    const policies = causes.filter((c) => c.target.kind === 'security-policy');
    assert.equal(policies.length, 1, show(causes));
    assert.equal(policies[0], causes[0], show(causes));
    assert.equal(policies[0].target.service, 'details');
    assert.equal(policies[0].evidence.filter((e) => /were refused with 403/.test(e.text)).length, 2);
  });

  test('no cause when the policy does not select the refused service, or the 403s were there before', () => {
    const other = run(refused(['details']), [policy({ workloads: ['bookinfo/app=ratings'] })]);
    assert.ok(!other.some((c) => c.target.kind === 'security-policy'), show(other));
    const steady = localize(snapshotOf({ current: refused(['details'], 0.3), baseline: refused(['details'], 0.3), instances: readyInstances(bookinfo()), extra: { configChanges: [policy()] } }));
    assert.ok(!steady.some((c) => c.target.kind === 'security-policy'), show(steady));
  });

  test('a change long before the anomaly counts less than one just before it', () => {
    const now = run(refused(['details'], 0.2), [policy()])[0];
    const old = run(refused(['details'], 0.2), [policy({ at: BASELINE.startMs })]).find((c) => c.target.kind === 'security-policy');
    assert.ok(!old || old.score < now.score / 2, `${old?.score} vs ${now.score}`);
  });

  test('each kind by its own symptom: an AuthorizationPolicy does not explain failed connections, a PeerAuthentication not 403s', () => {
    const wrongKind = run(refused(['details']), [policy({ resource: { kind: 'PeerAuthentication', namespace: 'bookinfo', name: 'details-chaos-mtls' } })]);
    assert.ok(!wrongKind.some((c) => c.target.kind === 'security-policy'), show(wrongKind));
    const unanswered = run(mismatched(), [policy()]);
    assert.ok(!unanswered.some((c) => c.target.kind === 'security-policy'), show(unanswered));
  });

  test('it matches chaos\'s bad-authz ground truth (the config change at its version), not another version', () => {
    const causes = run(refused(['details']), [policy()]);
    const config = { kind: 'config' as const, resource: { kind: 'AuthorizationPolicy', namespace: 'bookinfo', name: 'details-chaos-authz' }, version: 9 };
    const truth = expectedCause('bad-authz', { kind: 'service', namespace: 'bookinfo', name: 'details' }, { mode: 'allow-nobody' }, config);
    assert.equal(truth.category, 'security-policy');
    assert.equal(truth.label, describeTarget(causes[0].target), 'the label chaos records is how diagnosis names the cause');
    const topo = { instances: [] };
    assert.ok(causeMatches(causes[0], truth as unknown as ExpectedRef, topo));
    assert.ok(!causeMatches(causes[0], { ...config, version: 10 }, topo));
  });
});

describe('security-policy cause: a wrong PeerAuthentication', () => {
  const pa = (o: Partial<ConfigChangeSignal> = {}) => policy({ resource: { kind: 'PeerAuthentication', namespace: 'bookinfo', name: 'details-chaos-mtls' }, details: ['PeerAuthentication added'], aspects: ['tls'], ...o });

  test('connections the callers\' sidecars fail (UC) right after it: the PeerAuthentication first, the network path halved behind it', () => {
    const causes = run(mismatched(), [pa()]);
    const top = causes[0];
    assert.equal(describeTarget(top.target), 'security policy PeerAuthentication bookinfo/details-chaos-mtls (version 9)', show(causes));
    const texts = top.evidence.map((e) => e.text).join('\n');
    assert.match(texts, /50% of \d+ requests to details failed to connect \(503 UC\/UF: the mutual TLS modes of the two sides do not match; UH once callers ejected the instances for it\) \(before: 0%\); refused callers: productpage-v1/, texts);
    assert.ok(top.evidence.some((e) => e.signal === 'flag'));
    const network = causes.filter((x) => x.mechanism === 'network');
    assert.ok(network.length > 0, `the failures on the way make a network cause too:\n${show(causes)}`);
    for (const c of network) {
      assert.ok(c.score <= top.score * 0.5 + 1e-3, show(causes));
      assert.ok(c.evidence.some((e) => /refused by PeerAuthentication bookinfo\/details-chaos-mtls \(version 9\), which explains failures on the way/.test(e.text)), show(causes));
    }
  });

  test('callers that ejected the refused instances (outlier detection) answer UH: those count as refused, the PeerAuthentication is first', () => {
    // A few connections fail (UC) until productpage's outlier detection ejects details; then it answers UH.
    const ejectedCalls = bookinfo().flatMap((c): Call[] =>
      c.service === 'details'
        ? [{ ...c, rps: c.rps * 0.05 }, { ...c, rps: c.rps * 0.01, flags: 'UC', code: '503', flagAt: 'source' }, { from: PP, service: 'details', to: null, namespace: 'bookinfo', rps: c.rps * 0.94, ms: 0.3, flags: 'UH', code: '503' }]
        : c.service === 'productpage' ? [{ ...c, errors: 0.95 }] : [c],
    );
    const ejections = [{ at: CURRENT.startMs + 300, kind: 'eject' as const, instance: DETAILS.pod, namespace: 'bookinfo', reportedBy: 'productpage-v1-0.bookinfo', cluster: 'outbound|9080||details.bookinfo.svc.cluster.local', host: fqdn('details', 'bookinfo'), reason: 'consecutive_5xx' }];
    // The callers' side of the mismatch: the DestinationRule told them to send plaintext, a version earlier.
    const callersSide: ConfigChangeSignal = {
      version: 8, at: CURRENT.startMs - 400, type: 'updated', resource: { kind: 'DestinationRule', namespace: 'bookinfo', name: 'details' },
      hosts: [fqdn('details', 'bookinfo')], details: ['trafficPolicy.tls: none -> {"mode":"DISABLE"}'], aspects: ['tls'],
    };
    const causes = run(ejectedCalls, [callersSide, pa()], { outlierEvents: ejections });
    assert.equal(describeTarget(causes[0].target), 'security policy PeerAuthentication bookinfo/details-chaos-mtls (version 9)', show(causes));
    assert.match(causes[0].evidence.map((e) => e.text).join('\n'), /9\d% of \d+ requests to details failed to connect/, show(causes));
    // Without the ejections, UH is not a refusal: only the 1% UC is.
    const unejected = run(ejectedCalls, [callersSide, pa()]);
    const policyCause = unejected.find((c) => c.target.kind === 'security-policy');
    assert.ok(!policyCause || policyCause.score < causes[0].score / 2, show(unejected));
  });

  test('it matches chaos\'s bad-mtls ground truth', () => {
    const causes = run(mismatched(), [pa()]);
    const config = { kind: 'config' as const, resource: { kind: 'PeerAuthentication', namespace: 'bookinfo', name: 'details-chaos-mtls' }, version: 9 };
    const truth = expectedCause('bad-mtls', { kind: 'service', namespace: 'bookinfo', name: 'details' }, { mode: 'strict' }, config);
    assert.equal(truth.label, describeTarget(causes[0].target));
    assert.ok(causeMatches(causes[0], truth as unknown as ExpectedRef, { instances: [] }));
  });
});
