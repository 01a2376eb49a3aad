import type { Resource } from '../../../../api/resource.js';
import { namespaceOf } from '../../../../api/resource.js';
import { MESH_GATEWAY } from '../virtualservice/util.js';
import { checkExportTo } from './check-export-to.js';
import { checkGatewayNames } from './check-gateway-refs.js';
import { checkWildcardDomain, checkWildcardDomainForGatewayRoute, hostNamesOverlap } from './check-hosts.js';
import { isIPAddress } from './check-ip-addresses.js';
import type { Findings } from './findings.js';
import { checkJwtClaimRoutes } from './virtualservice-http-matches.js';
import { checkHTTPRoute } from './virtualservice-http-routes.js';
import { checkTCPRoute, checkTLSRoute } from './virtualservice-tls-tcp-routes.js';
import { findUnreachableRules } from './virtualservice-unreachable-rules.js';
import { isSet, list, obj, str, type Obj } from './yaml-values.js';

// VirtualService rules (Istio's ValidateVirtualService): hosts, gateway references, every HTTP,
// TLS and TCP route, and the rule-order analysis that finds routes no request can reach
// (IST0130) and matches that an earlier match already takes (IST0131). Bad routing config is
// rejected by istiod's webhook, so catching it before `kubectl apply` saves a round trip.
// This file checks what spans the whole resource and composes the virtualservice-*.ts parts.

const ROUTE_SEMANTICS_ANNOTATION = 'internal.istio.io/route-semantics';

export function validateVirtualService(r: Resource, f: Findings): void {
  const spec = obj(r.spec) ?? {};
  const hosts = list(spec.hosts).map(str);
  const gateways = list(spec.gateways).map(str);
  // Routes generated from the Gateway API carry looser naming rules.
  const gatewaySemantics = r.metadata.annotations?.[ROUTE_SEMANTICS_ANNOTATION] === 'gateway';

  // A VirtualService without hosts is a delegate: only HTTP routes, attached by a parent.
  if (hosts.length === 0) {
    if (gateways.length) f.error(['spec', 'gateways'], 'a delegate VirtualService (one without hosts) must not list gateways');
    if (list(spec.tls).length) f.error(['spec', 'tls'], 'a delegate VirtualService (one without hosts) must not have TLS routes');
    if (list(spec.tcp).length) f.error(['spec', 'tcp'], 'a delegate VirtualService (one without hosts) must not have TCP routes');
  }

  const appliesToGateway = gateways.length > 0 && !gateways.includes(MESH_GATEWAY);
  if (gateways.length) checkGatewayNames(f, ['spec', 'gateways'], spec.gateways, gatewaySemantics);
  if (!appliesToGateway) checkJwtClaimRoutes(f, spec);
  checkHosts(f, spec, hosts, appliesToGateway);

  if (!list(spec.http).length && !list(spec.tcp).length && !list(spec.tls).length) {
    f.error(['spec'], 'a VirtualService needs http, tcp or tls routes');
  }
  list(spec.http).forEach((route, i) => {
    const p = ['spec', 'http', i];
    if (!isSet(route)) f.error(p, 'HTTP route must not be null');
    else checkHTTPRoute(f, p, obj(route) ?? {}, hosts.length === 0, gatewaySemantics);
  });
  list(spec.tls).forEach((route, i) => checkTLSRoute(f, ['spec', 'tls', i], obj(route), spec, gateways, gatewaySemantics));
  list(spec.tcp).forEach((route, i) => checkTCPRoute(f, ['spec', 'tcp', i], obj(route), gatewaySemantics));
  checkExportTo(f, ['spec', 'exportTo'], namespaceOf(r), spec.exportTo, false, false);

  findUnreachableRules(f, list(spec.http), true);
  findUnreachableRules(f, list(spec.tcp), false);
  findUnreachableRules(f, list(spec.tls), false);
}

function checkHosts(f: Findings, spec: Obj, hosts: string[], appliesToGateway: boolean): void {
  const sni = list(spec.tls).some((t) => list(obj(t)?.match).some((m) => list(obj(m)?.sniHosts).length > 0));
  let allValid = true;
  hosts.forEach((host, i) => {
    const err = appliesToGateway ? checkWildcardDomainForGatewayRoute(sni, host) : checkWildcardDomain(host);
    if (err) {
      if (!isIPAddress(host)) {
        f.error(['spec', 'hosts', i], err);
        allValid = false;
      }
    } else if (!appliesToGateway && host === '*') {
      f.error(['spec', 'hosts', i], 'the wildcard host * is not allowed for VirtualServices that apply to the mesh');
      allValid = false;
    }
  });
  if (!allValid) return;
  // `*.foo.com` and `bar.foo.com` in one VirtualService overlap just like exact duplicates.
  for (let i = 0; i < hosts.length; i++) {
    for (let j = i + 1; j < hosts.length; j++) {
      if (hostNamesOverlap(hosts[i], hosts[j])) f.error(['spec', 'hosts', j], `hosts ${hosts[i]} and ${hosts[j]} overlap`);
    }
  }
}
