import assert from 'node:assert/strict';
import { test } from 'node:test';
import { edgeLabelText, escapeLabelValue, httpLabelText, tcpLabelText } from '../../src/telemetry/sidecar/label-sets.js';
import { decodePeerMetadata, encodePeerHeaders, PeerCache } from '../../src/telemetry/sidecar/peer-metadata.js';
import { canonicalRevision, canonicalService, identityOf, serviceNameOf } from '../../src/telemetry/sidecar/workload-identity.js';
import { node, parseExposition } from './sidecar-fixture.js';

// Istio's label values: canonical service and revision fallbacks, `unknown` for what a peer
// leaves out, label order and escaping, and the peer metadata headers' round trip.

const labelsOf = (text: string) => parseExposition(`m{${text}} 1`)[0].labels;

test("canonical service and revision follow Istio's label fallbacks", () => {
  assert.equal(canonicalService({ 'service.istio.io/canonical-name': 'shop', 'app.kubernetes.io/name': 'x', app: 'y' }, 'w'), 'shop');
  assert.equal(canonicalService({ 'app.kubernetes.io/name': 'x', app: 'y' }, 'w'), 'x');
  assert.equal(canonicalService({ app: 'y' }, 'w'), 'y');
  assert.equal(canonicalService({}, 'reviews-v1'), 'reviews-v1');
  assert.equal(canonicalRevision({ 'service.istio.io/canonical-revision': 'r', 'app.kubernetes.io/version': 'a', version: 'v' }), 'r');
  assert.equal(canonicalRevision({ 'app.kubernetes.io/version': 'a', version: 'v' }), 'a');
  assert.equal(canonicalRevision({ version: 'v' }), 'v');
  assert.equal(canonicalRevision({}), 'latest');
});

test('service names: the short name of a Kubernetes service host, a ServiceEntry host as is', () => {
  assert.equal(serviceNameOf('reviews.bookinfo.svc.cluster.local'), 'reviews');
  assert.equal(serviceNameOf('api.example.com'), 'api.example.com');
});

test('an unknown peer is `unknown` (its revision `latest`); this side keeps its own values, even empty ones', () => {
  const self = identityOf('legacy', 'default', {}); // no app, no version
  const text = edgeLabelText({ reporter: 'destination', source: null, destination: self, serviceHost: 'legacy', serviceName: 'legacy', serviceNamespace: 'default' });
  const l = labelsOf(text);
  assert.deepEqual([l.source_workload, l.source_workload_namespace, l.source_app, l.source_version, l.source_canonical_service, l.source_canonical_revision, l.source_cluster],
    ['unknown', 'unknown', 'unknown', 'unknown', 'unknown', 'latest', 'unknown']);
  assert.deepEqual([l.destination_workload, l.destination_app, l.destination_version, l.destination_canonical_service, l.destination_canonical_revision, l.destination_cluster],
    ['legacy', '', '', 'legacy', 'latest', 'Kubernetes']);
  // A known peer that has no version label is `unknown` for it, as Istio writes.
  const peer = identityOf('client', 'default', { app: 'client' });
  const p = labelsOf(edgeLabelText({ reporter: 'destination', source: peer, destination: self, serviceHost: 'legacy', serviceName: 'legacy', serviceNamespace: 'default' }));
  assert.deepEqual([p.source_app, p.source_version, p.source_canonical_revision], ['client', 'unknown', 'latest']);
});

test("labels come in Istio's order, TCP without response code; values are escaped for the text format", () => {
  const edge = edgeLabelText({ reporter: 'source', source: identityOf('a', 'ns', { app: 'a' }), destination: null, serviceHost: 'say "hi"\\now\n', serviceName: 'x', serviceNamespace: 'unknown' });
  const http = httpLabelText(edge, 'source', 'grpc', 200, '14', 'UH');
  assert.deepEqual(Object.keys(labelsOf(http)), [
    'reporter', 'source_workload', 'source_canonical_service', 'source_canonical_revision', 'source_workload_namespace', 'source_principal', 'source_app',
    'source_version', 'source_cluster', 'destination_workload', 'destination_workload_namespace', 'destination_principal', 'destination_app',
    'destination_version', 'destination_service', 'destination_canonical_service', 'destination_canonical_revision', 'destination_service_name',
    'destination_service_namespace', 'destination_cluster', 'request_protocol', 'response_code', 'grpc_response_status', 'response_flags', 'connection_security_policy',
  ]);
  assert.equal(labelsOf(http).destination_service, 'say "hi"\\now\n');
  assert.ok(http.includes('destination_service="say \\"hi\\"\\\\now\\n"'));
  assert.equal(escapeLabelValue('plain'), 'plain');
  const tcp = labelsOf(tcpLabelText(edge, 'destination', '-'));
  assert.deepEqual([tcp.request_protocol, tcp.response_code, tcp.connection_security_policy], ['tcp', undefined, 'none']);
});

test('peer metadata: what a sidecar sends decodes to its identity; garbage decodes to an unknown peer', () => {
  const n = node('127.10.140.7', 'reviews-v2-0', 'reviews-v2', { app: 'reviews', version: 'v2' });
  const h = encodePeerHeaders(n);
  assert.equal(h.id, 'sidecar~127.10.140.7~reviews-v2-0.bookinfo~bookinfo.svc.cluster.local');
  assert.deepEqual(decodePeerMetadata(h.metadata), { workload: 'reviews-v2', namespace: 'bookinfo', app: 'reviews', version: 'v2', canonicalService: 'reviews', canonicalRevision: 'v2', cluster: 'Kubernetes' });
  assert.equal(decodePeerMetadata('not base64 json'), null);
  assert.equal(decodePeerMetadata(Buffer.from('{"NAMESPACE":"x"}').toString('base64')), null);
  assert.equal(decodePeerMetadata('A'.repeat(10_000)), null);
  const cache = new PeerCache();
  assert.equal(cache.lookup(h.metadata), cache.lookup(h.metadata), 'one caller, one object');
});
