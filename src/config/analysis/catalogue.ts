// Istio's analysis message catalogue: codes, names and levels as Istio defines them
// (pkg/config/analysis/msg/messages.yaml), with meshmedic's own wording. `{0}`, `{1}`...
// are replaced by the parameters an analyzer passes.

export type Level = 'Info' | 'Warning' | 'Error';

export interface MessageType {
  code: string;
  name: string;
  level: Level;
  template: string;
}

const t = (code: string, level: Level, name: string, template: string): MessageType => ({ code, level, name, template });

export const CATALOGUE: readonly MessageType[] = [
  t('IST0001', 'Error', 'InternalError', 'Internal error: {0}'),
  t('IST0002', 'Warning', 'Deprecated', 'Deprecated: {0}'),
  t('IST0101', 'Error', 'ReferencedResourceNotFound', 'The {0} "{1}" does not exist.'),
  t('IST0102', 'Info', 'NamespaceNotInjected', 'Sidecar injection is not enabled for namespace {0}. Label it: kubectl label namespace {1} istio-injection=enabled (or istio-injection=disabled to say you mean it).'),
  t('IST0103', 'Warning', 'PodMissingProxy', 'Pod {0} has no Istio proxy although its namespace is injected; restarting it usually fixes this.'),
  t('IST0106', 'Error', 'SchemaValidationError', 'Schema validation error: {0}'),
  t('IST0107', 'Warning', 'MisplacedAnnotation', 'Misplaced annotation: {0} can only be applied to {1}'),
  t('IST0108', 'Warning', 'UnknownAnnotation', 'Unknown annotation: {0}'),
  t('IST0109', 'Error', 'ConflictingMeshGatewayVirtualServiceHosts', 'The VirtualServices {0} associated with the mesh gateway define the same host {1}, which can cause undefined behaviour. Merge the conflicting VirtualServices into one.'),
  t('IST0110', 'Error', 'ConflictingSidecarWorkloadSelectors', 'The Sidecars {0} in namespace {1} select the same workload pod {2}, which can cause undefined behaviour.'),
  t('IST0111', 'Error', 'MultipleSidecarsWithoutWorkloadSelectors', 'The Sidecars {0} in namespace {1} have no workload selector, which can cause undefined behaviour.'),
  t('IST0112', 'Error', 'VirtualServiceDestinationPortSelectorRequired', 'This VirtualService routes to a service {0} that exposes more than one port ({1}). Specify a port in the destination.'),
  t('IST0116', 'Warning', 'DeploymentAssociatedToMultipleServices', 'The resources of deployment {0} are selected by several services on port {1} ({2}). Istio needs each port of a workload to belong to one service.'),
  t('IST0118', 'Info', 'PortNameIsNotUnderNamingConvention', 'Port {0} (port {1}, targetPort {2}): the name does not say the protocol. Name it <protocol>[-suffix] (http, grpc, tcp, ...) or set appProtocol.'),
  t('IST0123', 'Warning', 'NamespaceMultipleInjectionLabels', 'The namespace carries more than one injection label {0}; keep only one of them.'),
  t('IST0125', 'Warning', 'InvalidAnnotation', 'Invalid annotation {0}: {1}'),
  t('IST0126', 'Error', 'UnknownMeshNetworksServiceRegistry', 'Unknown service registry {0} in network {1}'),
  t('IST0127', 'Warning', 'NoMatchingWorkloadsFound', 'No matching workloads for this resource with the following labels: {0}'),
  t('IST0128', 'Warning', 'NoServerCertificateVerificationDestinationLevel', 'DestinationRule {0} (namespace {1}) originates TLS in mode {2} to {3} but sets no caCertificates, so the server certificate is not verified.'),
  t('IST0129', 'Warning', 'NoServerCertificateVerificationPortLevel', 'DestinationRule {0} (namespace {1}) originates TLS in mode {2} to {3}, port {4}, but sets no caCertificates, so the server certificate is not verified.'),
  t('IST0130', 'Warning', 'VirtualServiceUnreachableRule', 'VirtualService rule {0} is unreachable: {1}.'),
  t('IST0131', 'Info', 'VirtualServiceIneffectiveMatch', 'VirtualService rule {0} match {1} is not used (duplicate or overlapping match in rule {2}).'),
  t('IST0132', 'Warning', 'VirtualServiceHostNotFoundInGateway', 'Gateway {2} does not serve the host(s) {0} of VirtualService {1}, so they are not reachable through it.'),
  t('IST0133', 'Warning', 'SchemaWarning', 'Schema validation warning: {0}'),
  t('IST0134', 'Warning', 'ServiceEntryAddressesRequired', 'ServiceEntry addresses are required for this protocol.'),
  t('IST0135', 'Info', 'DeprecatedAnnotation', 'Annotation {0} has been deprecated{1} and may not work in future Istio versions.'),
  t('IST0136', 'Info', 'AlphaAnnotation', 'Annotation {0} is part of an alpha-phase feature and may be incompletely supported.'),
  t('IST0137', 'Warning', 'DeploymentConflictingPorts', 'Deployment {0} is selected by services {2} that map different service ports {3} onto the same targetPort {1}.'),
  t('IST0138', 'Warning', 'GatewayDuplicateCertificate', 'Duplicate certificate in several gateways {0} may cause 404s if HTTP/2 connection reuse happens.'),
  t('IST0139', 'Error', 'InvalidWebhook', 'Invalid webhook: {0}'),
  t('IST0140', 'Warning', 'IngressRouteRulesNotAffected', 'The subsets VirtualService {0} routes to do not apply to requests entering through the gateway VirtualService {1}; route to the subset from {1}.'),
  t('IST0141', 'Error', 'InsufficientPermissions', 'Missing required permission to create resource {0} ({1})'),
  t('IST0142', 'Error', 'UnsupportedKubernetesVersion', 'The Kubernetes version {0} is lower than the minimum version: {1}'),
  t('IST0143', 'Error', 'LocalhostListener', 'Port {0} is exposed in a Service but listens on localhost. It will not be exposed to other pods.'),
  t('IST0144', 'Warning', 'InvalidApplicationUID', 'This workload runs as UID 1337, which is reserved for the sidecar proxy: its traffic would bypass the proxy.'),
  t('IST0145', 'Error', 'ConflictingGateways', 'Conflict with gateways {0} (workload selector {1}, port {2}, hosts {3}).'),
  t('IST0146', 'Warning', 'ImageAutoWithoutInjectionWarning', '{0} {1} contains `image: auto` but does not match any Istio injection webhook selector.'),
  t('IST0147', 'Error', 'ImageAutoWithoutInjectionError', '{0} {1} contains `image: auto` but does not match any Istio injection webhook selector.'),
  t('IST0148', 'Info', 'NamespaceInjectionEnabledByDefault', 'Sidecar injection is enabled for all namespaces by default. Set the label \'istio-injection=disabled\' on namespace {0} to disable it.'),
  t('IST0149', 'Error', 'JwtClaimBasedRoutingWithoutRequestAuthN', 'This VirtualService uses JWT claim based routing (key: {0}) but no RequestAuthentication applies to the gateway pod {1} (gateway {2}).'),
  t('IST0150', 'Warning', 'ExternalNameServiceTypeInvalidPortName', 'A port of this ExternalName Service has a name that does not say the protocol, so Istio treats its traffic as HTTP. Prefix the name with the protocol, e.g. tcp-.'),
  t('IST0151', 'Warning', 'EnvoyFilterUsesRelativeOperation', 'This EnvoyFilter has no priority and uses a relative patch operation, which can fail to apply. Use the INSERT_FIRST or ADD operation, or set a priority.'),
  t('IST0152', 'Error', 'EnvoyFilterUsesReplaceOperationIncorrectly', 'The REPLACE operation is only valid for HTTP_FILTER and NETWORK_FILTER.'),
  t('IST0153', 'Error', 'EnvoyFilterUsesAddOperationIncorrectly', 'The ADD operation is ignored when applyTo is ROUTE_CONFIGURATION or HTTP_ROUTE.'),
  t('IST0154', 'Error', 'EnvoyFilterUsesRemoveOperationIncorrectly', 'The REMOVE operation is ignored when applyTo is ROUTE_CONFIGURATION or HTTP_ROUTE.'),
  t('IST0155', 'Warning', 'EnvoyFilterUsesRelativeOperationWithProxyVersion', 'This EnvoyFilter has no priority, uses a relative patch operation (INSERT_BEFORE/AFTER, REPLACE, DELETE) and matches a proxyVersion, which can break on upgrade. Use INSERT_FIRST or ADD, or set a priority.'),
  t('IST0156', 'Error', 'UnsupportedGatewayAPIVersion', 'The Gateway API CRD version {0} is lower than the minimum version: {1}'),
  t('IST0172', 'Warning', 'FutureUnsupportedGatewayAPIVersion', 'The Gateway API CRD version {0} is lower than the minimum version a future Istio release needs: {1}'),
  t('IST0157', 'Warning', 'InvalidTelemetryProvider', 'The Telemetry with an empty providers list is ignored for {0} in namespace {1}.'),
  t('IST0158', 'Warning', 'PodsIstioProxyImageMismatchInNamespace', 'The Istio proxy image of these pods does not match the image injection would use now: {0}. Restart them to pick up the current image.'),
  t('IST0159', 'Error', 'ConflictingTelemetryWorkloadSelectors', 'The Telemetries {0} in namespace {1} select the same workload pod {2}, which can cause undefined behaviour.'),
  t('IST0160', 'Error', 'MultipleTelemetriesWithoutWorkloadSelectors', 'The Telemetries {0} in namespace {1} have no workload selector, which can cause undefined behaviour.'),
  t('IST0161', 'Error', 'InvalidGatewayCredential', 'The gateway refers to a credential that is missing or not valid: {0}'),
  t('IST0162', 'Warning', 'GatewayPortNotDefinedOnService', 'The gateway refers to port {0} ({1}), which is not exposed on the workload\'s service.'),
  t('IST0163', 'Warning', 'InvalidExternalControlPlaneConfig', 'The hostname ({0}) of the webhook {1} is not valid: {2}'),
  t('IST0164', 'Info', 'ExternalControlPlaneAddressIsNotAHostname', 'The address ({0}) of the webhook {1} is an IP address, not a hostname; a hostname is easier to keep stable.'),
  t('IST0165', 'Warning', 'ReferencedInternalGateway', 'The VirtualService refers to the internal gateway {0}, which Istio generated for {1}; internal gateways are not meant to be referenced.'),
  t('IST0166', 'Warning', 'IneffectiveSelector', 'Ineffective selector on Kubernetes Gateway {0}. Use targetRef to select the gateway instead.'),
  t('IST0167', 'Warning', 'IneffectivePolicy', 'The policy has no effect: {0}.'),
  t('IST0168', 'Warning', 'UnknownUpgradeCompatibility', 'The configuration {0} changed in release {1}, which may need attention: {2}. Run \'{3}\' to keep the old behaviour.'),
  t('IST0169', 'Warning', 'UpdateIncompatibility', 'The configuration {0} changed in release {1}: {2}. See {3}.'),
  t('IST0170', 'Warning', 'MultiClusterInconsistentService', 'The service {0} in namespace {1} differs across clusters {2}: {3}'),
  t('IST0171', 'Warning', 'NegativeConditionStatus', 'The condition {0} reports {1}: {2}'),
  t('IST0173', 'Error', 'DestinationRuleSubsetNotSelectPods', 'The subset {0} of DestinationRule {1} selects no pods.'),
  t('IST0174', 'Warning', 'UnknownDestinationRuleHost', 'The host {0} of DestinationRule {1} matches no service in the registry.'),
  t('IST0175', 'Warning', 'JwksUriFetchUnrestricted', '{1} RequestAuthentication(s) ({0}) make istiod fetch JWKS from their jwksUri, but istiod has no BLOCKED_CIDRS_IN_JWKS_URIS set to keep those fetches away from internal addresses.'),
  t('IST0176', 'Warning', 'GatewayAPICRDVersionBelowMinimum', 'The Gateway API CRD {0} has bundle version {1}, lower than the minimum {2} that Istio needs for it.'),
  t('IST0177', 'Warning', 'ConflictingServiceEntryProtocol', 'ServiceEntries {0} define host {1} port {2} with different protocols ({3}).'),
];

const byCode = new Map(CATALOGUE.map((m) => [m.code, m]));
const byName = new Map(CATALOGUE.map((m) => [m.name, m]));

export function messageType(codeOrName: string): MessageType {
  const m = byCode.get(codeOrName) ?? byName.get(codeOrName);
  if (!m) throw new Error(`unknown analysis message ${codeOrName}`);
  return m;
}

export function render(template: string, params: readonly unknown[]): string {
  return template.replace(/\{(\d+)\}/g, (_, i: string) => {
    const v = params[Number(i)];
    return v === undefined ? '' : Array.isArray(v) ? `[${v.join(' ')}]` : String(v);
  });
}

export function documentationUrl(code: string): string {
  return `https://istio.io/latest/docs/reference/config/analysis/${code.toLowerCase()}/`;
}

const LEVEL_ORDER: Record<Level, number> = { Info: 0, Warning: 1, Error: 2 };
export function levelAtLeast(level: Level, threshold: Level): boolean {
  return LEVEL_ORDER[level] >= LEVEL_ORDER[threshold];
}
export function parseLevel(s: string): Level | undefined {
  const l = s.toLowerCase();
  return l === 'info' ? 'Info' : l === 'warning' || l === 'warn' ? 'Warning' : l === 'error' ? 'Error' : undefined;
}
