import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { causeMatches, matchRank, type TopologyView } from '../../src/diagnosis/ground-truth.js';
import type { CauseTarget, RankedCause } from '../../src/diagnosis/model.js';

// Comparing an answer with chaos's ground truth: the culprit must be the same, and answers the
// mesh cannot tell apart (a lone instance and its version) count as the same.

const topo: TopologyView = {
  instances: [
    { namespace: 'bookinfo', name: 'productpage-v1-0', workload: 'productpage-v1', service: 'productpage' },
    { namespace: 'bookinfo', name: 'reviews-v1-0', workload: 'reviews-v1', service: 'reviews' },
    { namespace: 'bookinfo', name: 'reviews-v2-0', workload: 'reviews-v2', service: 'reviews' },
    { namespace: 'bookinfo', name: 'api-v1-0', workload: 'api-v1', service: 'api' },
    { namespace: 'bookinfo', name: 'api-v1-1', workload: 'api-v1', service: 'api' },
  ],
};
const cause = (target: Partial<CauseTarget> & { kind: CauseTarget['kind'] }): RankedCause => ({ target: { namespace: 'bookinfo', ...target }, score: 0.9, summary: '', evidence: [] });
const ref = (kind: 'service' | 'workload' | 'instance' | 'external', name: string) => ({ kind, namespace: kind === 'external' ? '' : 'bookinfo', name });

describe('causeMatches', () => {
  test('the same culprit by its own name', () => {
    assert.ok(causeMatches(cause({ kind: 'service', service: 'reviews' }), ref('service', 'reviews'), topo));
    assert.ok(causeMatches(cause({ kind: 'instance', instance: 'api-v1-1' }), ref('instance', 'api-v1-1'), topo));
    assert.ok(causeMatches(cause({ kind: 'overload', service: 'api' }), ref('service', 'api'), topo));
    assert.ok(causeMatches(cause({ kind: 'external', host: 'pay.example' }), ref('external', 'pay.example'), topo));
  });

  test('a lone instance is its version, a lone version its service', () => {
    assert.ok(causeMatches(cause({ kind: 'version', service: 'reviews', workload: 'reviews-v2' }), ref('instance', 'reviews-v2-0'), topo));
    assert.ok(causeMatches(cause({ kind: 'instance', instance: 'reviews-v2-0' }), ref('workload', 'reviews-v2'), topo));
    assert.ok(causeMatches(cause({ kind: 'service', service: 'productpage' }), ref('instance', 'productpage-v1-0'), topo));
    assert.ok(causeMatches(cause({ kind: 'version', workload: 'api-v1' }), ref('service', 'api'), topo));
  });

  test('different culprits do not match', () => {
    assert.ok(!causeMatches(cause({ kind: 'service', service: 'reviews' }), ref('workload', 'reviews-v2'), topo), 'a service of two versions is not one of them');
    assert.ok(!causeMatches(cause({ kind: 'version', workload: 'api-v1' }), ref('instance', 'api-v1-1'), topo), 'a version of two instances is not one of them');
    assert.ok(!causeMatches(cause({ kind: 'instance', instance: 'api-v1-0' }), ref('instance', 'api-v1-1'), topo));
    assert.ok(!causeMatches(cause({ kind: 'service', service: 'productpage' }), ref('service', 'reviews'), topo));
  });

  test('edges by calling service or its only workload; config changes by resource and version', () => {
    const edge = { kind: 'edge' as const, source: { kind: 'service', namespace: 'bookinfo', name: 'productpage' }, destination: { kind: 'service', namespace: 'bookinfo', name: 'reviews' } };
    assert.ok(causeMatches(cause({ kind: 'edge', service: 'reviews', source: 'productpage-v1' }), edge, topo));
    assert.ok(!causeMatches(cause({ kind: 'edge', service: 'api', source: 'productpage-v1' }), edge, topo));
    const config = { kind: 'config' as const, resource: { kind: 'VirtualService', namespace: 'bookinfo', name: 'reviews' }, version: 7 };
    assert.ok(causeMatches(cause({ kind: 'config-change', resource: { ...config.resource, configVersion: 7 } }), config, topo));
    assert.ok(!causeMatches(cause({ kind: 'config-change', resource: { ...config.resource, configVersion: 6 } }), config, topo));
  });

  test('another name of the same fault (alsoRight) is as right', () => {
    const dr = { kind: 'config' as const, resource: { kind: 'DestinationRule', namespace: 'bookinfo', name: 'reviews' }, version: 9 };
    const expected = { ...ref('service', 'reviews'), alsoRight: [dr] };
    assert.ok(causeMatches(cause({ kind: 'overload', service: 'reviews' }), expected, topo));
    assert.ok(causeMatches(cause({ kind: 'config-change', resource: { ...dr.resource, configVersion: 9 } }), expected, topo));
    assert.ok(!causeMatches(cause({ kind: 'config-change', resource: { ...dr.resource, configVersion: 9 } }), ref('service', 'reviews'), topo), 'not without it');
    assert.ok(!causeMatches(cause({ kind: 'config-change', resource: { ...dr.resource, name: 'details', configVersion: 9 } }), expected, topo));
  });

  test('matchRank gives the 1-based rank of the first match', () => {
    const list = [cause({ kind: 'service', service: 'productpage' }), cause({ kind: 'instance', instance: 'api-v1-1' })];
    assert.equal(matchRank(list, ref('instance', 'api-v1-1'), topo), 2);
    assert.equal(matchRank(list, ref('service', 'reviews'), topo), 0);
  });
});
