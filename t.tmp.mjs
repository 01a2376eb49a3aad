import { VirtualService } from '@kubernetes-models/istio/networking.istio.io/v1/VirtualService';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import { AuthorizationPolicy } from '@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy';
function run(C, data) { try { C.prototype.validate.call(data); console.log('ok'); } catch (e) { console.log(JSON.stringify(e.errors.map(x => [x.instancePath, x.schemaPath, x.keyword, x.params, x.message]))); } }
run(VirtualService, { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'x' }, spec: { hosts: ['a'], http: [{ match: [{ uri: { exact: 5 } }], route: [{ destination: { host: 'a' } }] }] } });
run(Service, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' }, spec: { ports: [{ port: '80', targetPort: 'http' }], selector: { app: 1 } } });
run(Deployment, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ image: 'x', ports: [{ containerPort: 'a' }] }] } } } });
run(HTTPRoute, { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'x' }, spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'svc', port: 'x' }] }] } });
run(HTTPRoute, { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'x' }, spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'svc', port: 80 }] }] } });
run(AuthorizationPolicy, { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'x' }, spec: { action: 'NOPE', rules: [{ to: [{ operation: { ports: [80] } }] }] } });
