import type { FieldPath } from '../../../../api/resource.js';
import { MESH_GATEWAY } from '../virtualservice/util.js';
import { checkGatewayNames } from './check-gateway-refs.js';
import { checkWildcardDomain, checkWildcardDomainForGatewayRoute, hostNameSubsetOf } from './check-hosts.js';
import { checkIPSubnet, isIPAddress } from './check-ip-addresses.js';
import { checkPort } from './check-ports.js';
import { checkLabels } from './check-selectors.js';
import type { Findings } from './findings.js';
import { checkRouteDestinations } from './virtualservice-destinations.js';
import { list, num, obj, str, type Obj } from './yaml-values.js';

// VirtualService TLS and TCP routes and their matches (SNI hosts, subnets, ports).

export function checkTLSRoute(f: Findings, p: FieldPath, tls: Obj | undefined, spec: Obj, gateways: string[], gatewaySemantics: boolean): void {
  if (!tls) return;
  if (list(tls.match).length === 0) f.error(p, 'a TLS route needs at least one match');
  list(tls.match).forEach((m, i) => checkTLSMatch(f, [...p, 'match', i], m, spec, gateways));
  if (list(tls.route).length === 0) f.error(p, 'a TLS route needs route destinations');
  checkRouteDestinations(f, [...p, 'route'], tls.route, gatewaySemantics, false);
}

function checkTLSMatch(f: Findings, p: FieldPath, raw: unknown, spec: Obj, gateways: string[]): void {
  const match = obj(raw);
  if (!match) {
    f.error(p, 'TLS match must not be null');
    return;
  }
  const sniHosts = list(match.sniHosts).map(str);
  if (sniHosts.length === 0) f.error(p, 'a TLS match needs at least one sniHost');
  sniHosts.forEach((sni, i) => checkSniHost(f, [...p, 'sniHosts', i], sni, spec, gateways));
  checkL4MatchCommon(f, p, match);
}

function checkSniHost(f: Findings, p: FieldPath, sni: string, spec: Obj, gateways: string[]): void {
  // Istio treats a VirtualService without gateways like a gateway one here (its isGateway helper).
  const onGateway = !gateways.includes(MESH_GATEWAY);
  const err = onGateway ? checkWildcardDomainForGatewayRoute(true, sni) : checkWildcardDomain(sni);
  if (err) {
    if (isIPAddress(sni)) f.warn(p, `SNI host "${sni}" is an IP address, which the SNI standard forbids and most clients do not send`);
    else f.error(p, err);
    return;
  }
  const hosts = list(spec.hosts).map(str);
  if (!hosts.some((h) => hostNameSubsetOf(sni, h))) {
    f.error(p, `SNI host "${sni}" is not covered by any host of the VirtualService: [${hosts.join(', ')}]`);
  }
}

export function checkTCPRoute(f: Findings, p: FieldPath, tcp: Obj | undefined, gatewaySemantics: boolean): void {
  if (!tcp) return;
  list(tcp.match).forEach((raw, i) => {
    const match = obj(raw);
    if (!match) f.error([...p, 'match', i], 'TCP match must not be null');
    else checkL4MatchCommon(f, [...p, 'match', i], match);
  });
  if (list(tcp.route).length === 0) f.error(p, 'a TCP route needs route destinations');
  checkRouteDestinations(f, [...p, 'route'], tcp.route, gatewaySemantics, false);
}

function checkL4MatchCommon(f: Findings, p: FieldPath, match: Obj): void {
  list(match.destinationSubnets).forEach((s, i) => {
    const err = checkIPSubnet(str(s));
    if (err) f.error([...p, 'destinationSubnets', i], err);
  });
  if (num(match.port) !== 0) {
    const err = checkPort(num(match.port));
    if (err) f.error([...p, 'port'], err);
  }
  checkLabels(f, [...p, 'sourceLabels'], match.sourceLabels);
  checkGatewayNames(f, [...p, 'gateways'], match.gateways);
}
