import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { runCli, tempFiles } from './helpers.js';

const VS_MISSING_HOST = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: bookinfo
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews-typo
`;

const CLEAN = `apiVersion: v1
kind: Service
metadata:
  name: reviews
spec:
  selector:
    app: reviews
  ports:
  - name: http
    port: 9080
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
`;

const files = tempFiles({
  'missing-host.yaml': VS_MISSING_HOST,
  'clean.yaml': CLEAN,
  'broken.yaml': 'apiVersion: v1\nkind: Service\nmetadata:\n  name: [unclosed\n',
  'unknown-kind.yaml': `apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\napiVersion: networking.istio.io/v1\nkind: VirtualServise\nmetadata:\n  name: typo\n`,
  'wrong-type.yaml': `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
  - reviews
  http:
  - timeout: 10
    route:
    - destination:
        host: reviews
`,
  'info-only.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {name: cart}\nspec:\n  selector: {app: cart}\n  ports:\n  - name: web\n    port: 8080\n',
  'no-name.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {}\n',
  'list.json': JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [JSON.parse(JSON.stringify(parse(VS_MISSING_HOST)))] }),
});
after(files.cleanup);

const noStack = (s: string) => assert.doesNotMatch(s, /\n\s+at .+:\d+:\d+/, 'printed a stack trace');

describe('meshmedic analyze', () => {
  test('a VirtualService to a missing host gives IST0101 in JSON and exit code 79', () => {
    const r = runCli(['analyze', '-n', 'bookinfo', '-o', 'json', files.path('missing-host.yaml')]);
    assert.equal(r.code, 79, r.stderr);
    const out = JSON.parse(r.stdout) as Array<Record<string, string>>;
    const m = out.find((x) => x.code === 'IST0101');
    assert.ok(m, r.stdout);
    assert.equal(m.origin, 'VirtualService bookinfo/reviews');
    assert.equal(m.level, 'Error');
    assert.match(m.reference, /missing-host\.yaml:12$/); // the line of the destination host
    assert.match(m.documentationUrl, /ist0101/);
    assert.match(m.message, /reviews-typo/);
  });

  test('a clean file prints nothing and exits 0', () => {
    const r = runCli(['analyze', '-o', 'json', files.path('clean.yaml')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
  });

  test('log output is one istioctl-style line per message', () => {
    const r = runCli(['analyze', '-A', files.path('missing-host.yaml')]);
    assert.equal(r.code, 79);
    assert.match(r.stdout, /^Error \[IST0101\] \(VirtualService bookinfo\/reviews .*missing-host\.yaml:12\) .*reviews-typo/m);
    assert.match(r.stderr, /Analyzers found issues/);
  });

  test('-o yaml prints the same objects', () => {
    const r = runCli(['analyze', '-A', '-o', 'yaml', files.path('missing-host.yaml')]);
    const out = parse(r.stdout) as Array<Record<string, string>>;
    assert.equal(out[0].code, 'IST0101');
  });

  test('resources without a namespace get -n; -n also filters messages', () => {
    const r = runCli(['analyze', '-n', 'shop', '-o', 'json', files.path('clean.yaml'), files.path('missing-host.yaml')]);
    // The bookinfo message is outside the analyzed namespace, so it is filtered out.
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const all = runCli(['analyze', '-A', '-o', 'json', files.path('missing-host.yaml')]);
    assert.equal(JSON.parse(all.stdout)[0].origin, 'VirtualService bookinfo/reviews');
  });

  test('stdin (-) and kind: List in JSON are read', () => {
    const r = runCli(['analyze', '-A', '-o', 'json', '-'], VS_MISSING_HOST);
    assert.equal(r.code, 79);
    assert.match(JSON.parse(r.stdout)[0].reference, /^-:12$/);
    const l = runCli(['analyze', '-A', '-o', 'json', files.path('list.json')]);
    assert.equal(l.code, 79, l.stderr);
    assert.equal(JSON.parse(l.stdout)[0].origin, 'VirtualService bookinfo/reviews');
  });

  test('--failure-threshold and --output-threshold', () => {
    const quiet = runCli(['analyze', '-A', '--output-threshold', 'Error', '-o', 'json', files.path('missing-host.yaml')]);
    assert.equal(JSON.parse(quiet.stdout)[0].code, 'IST0101');
    const r = runCli(['analyze', '-A', '--failure-threshold', 'Error', files.path('missing-host.yaml')]);
    assert.equal(r.code, 79);
    // An Info message is printed but fails only when the threshold is lowered to Info.
    const info = runCli(['analyze', files.path('info-only.yaml')]);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /^Info \[IST0118\] \(Service default\/cart .*info-only\.yaml:\d+\) .*web/m);
    assert.equal(runCli(['analyze', '--failure-threshold', 'Info', files.path('info-only.yaml')]).code, 79);
    assert.equal(runCli(['analyze', '--output-threshold', 'Warning', files.path('info-only.yaml')]).stdout, '');
    const bad = runCli(['analyze', '--failure-threshold', 'Loud', files.path('missing-host.yaml')]);
    assert.equal(bad.code, 64);
  });

  test('--suppress hides a message; a bad rule is a usage error', () => {
    const r = runCli(['analyze', '-A', '-S', 'IST0101=VirtualService reviews.bookinfo', files.path('missing-host.yaml')]);
    assert.equal(r.code, 0, r.stdout);
    assert.equal(r.stdout, '');
    const wild = runCli(['analyze', '-A', '-S', '*=VirtualService *', files.path('missing-host.yaml')]);
    assert.equal(wild.code, 0);
    assert.equal(runCli(['analyze', '-S', 'nonsense', files.path('missing-host.yaml')]).code, 64);
  });

  test('--analyzer runs only the named analyzers; an unknown one is a usage error', () => {
    const r = runCli(['analyze', '-A', '--analyzer', 'service.PortNameAnalyzer', files.path('missing-host.yaml')]);
    assert.equal(r.code, 0, r.stdout);
    const x = runCli(['analyze', '--analyzer', 'no.SuchAnalyzer', files.path('missing-host.yaml')]);
    assert.equal(x.code, 64);
    assert.match(x.stderr, /unknown analyzer "no\.SuchAnalyzer"/);
  });

  test('-L lists the analyzers with Istio names', () => {
    const r = runCli(['analyze', '-L']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /virtualservice\.DestinationHostAnalyzer/);
    const j = JSON.parse(runCli(['analyze', '-L', '-o', 'json']).stdout) as Array<{ name: string }>;
    assert.ok(j.length >= 37);
  });
});

describe('bad input: one clear line, file:line and field, the right exit code, no stack trace', () => {
  test('unparseable YAML', () => {
    const r = runCli(['analyze', files.path('broken.yaml')]);
    assert.equal(r.code, 65);
    noStack(r.stderr);
    assert.match(r.stderr, /^Error: .*broken\.yaml:\d+: .* \[E_YAML_PARSE\]$/m);
    assert.equal(r.stdout, '');
  });

  test('unknown kind in an Istio group', () => {
    const r = runCli(['analyze', files.path('unknown-kind.yaml')]);
    assert.equal(r.code, 65);
    noStack(r.stderr);
    assert.match(r.stderr, /unknown-kind\.yaml:5: kind: unknown kind VirtualServise in networking\.istio\.io\/v1 \[E_UNKNOWN_KIND\]/);
  });

  test('wrong field type names the field path and line', () => {
    const r = runCli(['analyze', files.path('wrong-type.yaml')]);
    assert.equal(r.code, 65, r.stdout + r.stderr);
    noStack(r.stderr);
    assert.match(r.stderr, /wrong-type\.yaml:9: spec\.http\[0\]\.timeout: .*\[E_SCHEMA\]/);
  });

  test('missing metadata.name', () => {
    const r = runCli(['analyze', files.path('no-name.yaml')]);
    assert.equal(r.code, 65);
    assert.match(r.stderr, /no-name\.yaml:1: metadata\.name: metadata\.name is required \[E_MISSING_FIELD\]/);
  });

  test('missing file', () => {
    const r = runCli(['analyze', files.path('nope.yaml')]);
    assert.equal(r.code, 65);
    noStack(r.stderr);
    assert.match(r.stderr, /nope\.yaml: no such file or directory \[E_FILE_NOT_FOUND\]/);
  });

  test('nothing is analyzed when one file is bad (input is rejected whole)', () => {
    const r = runCli(['analyze', '-o', 'json', files.path('missing-host.yaml'), files.path('broken.yaml')]);
    assert.equal(r.code, 65);
    assert.equal(r.stdout, '');
  });

  test('usage errors exit 64', () => {
    assert.equal(runCli(['analyze', '--bogus']).code, 64);
    assert.equal(runCli(['analyze', '-o', 'xml', files.path('clean.yaml')]).code, 64);
    assert.equal(runCli(['analyze']).code, 64);
    assert.equal(runCli(['no-such-command']).code, 64);
  });
});
