// Every analyzer meshmedic runs. Adding one is one file under analyzers/ plus one line here.
import type { Analyzer } from './analyzer.js';
import { k8sAnnotationsAnalyzer } from './analyzers/annotations/k8s-annotations.js';
import { alphaAnalyzer } from './analyzers/annotations/alpha.js';
import { deprecationAnalyzer } from './analyzers/deprecation/deprecation.js';
import { externalControlPlaneAnalyzer } from './analyzers/externalcontrolplane/external-control-plane.js';
import { ingressGatewayPortAnalyzer } from './analyzers/gateway/ingress-gateway-port.js';
import { secretAnalyzer } from './analyzers/gateway/secret.js';
import { conflictingGatewayAnalyzer } from './analyzers/gateway/conflicting-gateway.js';
import { certificateAnalyzer } from './analyzers/gateway/certificate.js';
import { injectionAnalyzer } from './analyzers/injection/injection.js';
import { imageAnalyzer } from './analyzers/injection/image.js';
import { imageAutoAnalyzer } from './analyzers/injection/image-auto.js';
import { portNameAnalyzer } from './analyzers/service/port-name.js';
import { selectorAnalyzer } from './analyzers/sidecar/selector.js';
import { conflictingMeshGatewayHostsAnalyzer } from './analyzers/virtualservice/conflicting-mesh-gateway-hosts.js';
import { destinationHostAnalyzer } from './analyzers/virtualservice/destination-host.js';
import { destinationRuleAnalyzer } from './analyzers/virtualservice/destination-rule.js';
import { gatewayAnalyzer } from './analyzers/virtualservice/gateway.js';
import { jwtClaimRouteAnalyzer } from './analyzers/virtualservice/jwt-claim-route.js';
import { multiServiceAnalyzer } from './analyzers/deployment/multi-service.js';
import { applicationUidAnalyzer } from './analyzers/deployment/application-uid.js';
import { meshNetworksAnalyzer } from './analyzers/meshnetworks/mesh-networks.js';
import { blockedCidrsAnalyzer } from './analyzers/authn/blocked-cidrs.js';
import { authorizationPoliciesAnalyzer } from './analyzers/authz/authorization-policies.js';
import { caCertificateAnalyzer } from './analyzers/destinationrule/ca-certificate.js';
import { subsetSelectPodAnalyzer } from './analyzers/destinationrule/subset-select-pod.js';
import { protocolAddressesAnalyzer } from './analyzers/serviceentry/protocol-addresses.js';
import { conflictingProtocolAnalyzer } from './analyzers/serviceentry/conflicting-protocol.js';
import { webhookAnalyzer } from './analyzers/webhook/webhook.js';
import { envoyPatchAnalyzer } from './analyzers/envoyfilter/envoy-patch.js';
import { providerAnalyzer } from './analyzers/telemetry/provider.js';
import { telemetrySelectorAnalyzer } from './analyzers/telemetry/selector.js';
import { defaultSelectorAnalyzer } from './analyzers/telemetry/default-selector.js';
import { lightstepAnalyzer } from './analyzers/telemetry/lightstep.js';
import { k8sgatewaySelectorAnalyzer } from './analyzers/k8sgateway/selector.js';
import { crdVersionAnalyzer } from './analyzers/k8sgateway/crd-version.js';
import { conditionAnalyzer } from './analyzers/conditions/condition.js';
import { schemaValidationAnalyzers } from './analyzers/schema/validation.js';

export const ANALYZERS: readonly Analyzer[] = [
  k8sAnnotationsAnalyzer,
  alphaAnalyzer,
  deprecationAnalyzer,
  externalControlPlaneAnalyzer,
  ingressGatewayPortAnalyzer,
  secretAnalyzer,
  conflictingGatewayAnalyzer,
  certificateAnalyzer,
  injectionAnalyzer,
  imageAnalyzer,
  imageAutoAnalyzer,
  portNameAnalyzer,
  selectorAnalyzer,
  conflictingMeshGatewayHostsAnalyzer,
  destinationHostAnalyzer,
  destinationRuleAnalyzer,
  gatewayAnalyzer,
  jwtClaimRouteAnalyzer,
  multiServiceAnalyzer,
  applicationUidAnalyzer,
  meshNetworksAnalyzer,
  blockedCidrsAnalyzer,
  authorizationPoliciesAnalyzer,
  caCertificateAnalyzer,
  subsetSelectPodAnalyzer,
  protocolAddressesAnalyzer,
  conflictingProtocolAnalyzer,
  webhookAnalyzer,
  envoyPatchAnalyzer,
  providerAnalyzer,
  telemetrySelectorAnalyzer,
  defaultSelectorAnalyzer,
  lightstepAnalyzer,
  k8sgatewaySelectorAnalyzer,
  crdVersionAnalyzer,
  conditionAnalyzer,
  ...schemaValidationAnalyzers,
];

/** Analyzers `meshmedic analyze` runs when no --analyzer is given (Istio's All()). */
export const DEFAULT_ANALYZERS: readonly Analyzer[] = ANALYZERS.filter((a) => a.defaultEnabled !== false);

export function findAnalyzer(name: string): Analyzer | undefined {
  return ANALYZERS.find((a) => a.name === name);
}
