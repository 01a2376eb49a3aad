import type { KindId } from '../../../../api/kinds.js';
import type { Resource } from '../../../../api/resource.js';
import type { Analyzer } from '../../analyzer.js';
import { newMessage, type Message } from '../../message.js';
import { validateAuthorizationPolicy } from './authorizationpolicy-rules.js';
import { validateDestinationRule } from './destinationrule-rules.js';
import { validateEnvoyFilter } from './envoyfilter-rules.js';
import { Findings, describe, type Finding } from './findings.js';
import { validateGateway } from './gateway-rules.js';
import { validatePeerAuthentication } from './peerauthentication-rules.js';
import { validateProxyConfig } from './proxyconfig-rules.js';
import { validateRequestAuthentication } from './requestauthentication-rules.js';
import { validateServiceEntry } from './serviceentry-rules.js';
import { validateSidecar } from './sidecar-rules.js';
import { validateTelemetry } from './telemetry-rules.js';
import { validateVirtualService } from './virtualservice-rules.js';
import { validateWasmPlugin } from './wasmplugin-rules.js';
import { validateWorkloadEntry } from './workloadentry-rules.js';
import { validateWorkloadGroup } from './workloadgroup-rules.js';

// Istio's semantic validation (what istiod's admission webhook rejects or warns about) run as
// analyzers, one per Istio kind: `schema.ValidationAnalyzer.<Kind>`. Errors become IST0106,
// warnings IST0133, and the VirtualService rule-order warnings IST0130 / IST0131. Catching these
// offline means config that `kubectl apply` would bounce is found before it is applied.

type Validator = (r: Resource, f: Findings) => void;

const VALIDATORS: ReadonlyArray<[KindId, Validator]> = [
  ['VirtualService', validateVirtualService],
  ['DestinationRule', validateDestinationRule],
  ['Gateway', validateGateway],
  ['ServiceEntry', validateServiceEntry],
  ['WorkloadEntry', validateWorkloadEntry],
  ['WorkloadGroup', validateWorkloadGroup],
  ['Sidecar', validateSidecar],
  ['EnvoyFilter', validateEnvoyFilter],
  ['ProxyConfig', validateProxyConfig],
  ['PeerAuthentication', validatePeerAuthentication],
  ['AuthorizationPolicy', validateAuthorizationPolicy],
  ['RequestAuthentication', validateRequestAuthentication],
  ['Telemetry', validateTelemetry],
  ['WasmPlugin', validateWasmPlugin],
];

const DRY_RUN_ANNOTATION = 'istio.io/dry-run';
// Used to test istiod's webhook: always rejected.
const ALWAYS_REJECT_ANNOTATION = 'internal.istio.io/webhook-always-reject';
// Istio sets these on config it generates (from the Gateway API); set by hand they would raise privileges.
const INTERNAL_PARENT_PREFIX = 'internal.istio.io/parent';
const GO_BOOLEANS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False']);

/**
 * Checks Istio runs on the metadata of every kind before the kind's own rules; a problem here
 * is the only one reported. `istio.io/dry-run` is for ALLOW/DENY AuthorizationPolicies only.
 */
function metadataError(r: Resource): Finding | undefined {
  const annotations = r.metadata.annotations ?? {};
  const path = (k: string) => ['metadata', 'annotations', k];
  if (DRY_RUN_ANNOTATION in annotations) {
    const value = String(annotations[DRY_RUN_ANNOTATION]);
    if (r.info.id !== 'AuthorizationPolicy') {
      return { kind: 'error', path: path(DRY_RUN_ANNOTATION), text: `annotation ${DRY_RUN_ANNOTATION} is supported only on AuthorizationPolicy; remove it` };
    }
    const action = (r.spec as any)?.action || 'ALLOW';
    if (action !== 'ALLOW' && action !== 'DENY') {
      return { kind: 'error', path: path(DRY_RUN_ANNOTATION), text: `annotation ${DRY_RUN_ANNOTATION} supports only actions ALLOW and DENY, not ${action}` };
    }
    if (!GO_BOOLEANS.has(value)) {
      return { kind: 'error', path: path(DRY_RUN_ANNOTATION), text: `annotation ${DRY_RUN_ANNOTATION} has the value "${value}", which is not a boolean` };
    }
  }
  if (ALWAYS_REJECT_ANNOTATION in annotations) {
    return { kind: 'error', path: path(ALWAYS_REJECT_ANNOTATION), text: `annotation ${ALWAYS_REJECT_ANNOTATION} is set, so the resource is rejected` };
  }
  const internal = Object.keys(annotations).find((k) => k.startsWith(INTERNAL_PARENT_PREFIX));
  if (internal) return { kind: 'error', path: path(internal), text: `annotation ${internal} is internal to Istio and may not be set by users` };
  return undefined;
}

/** All findings of Istio's validation for one resource. */
export function validateSemantics(r: Resource, validate: Validator): Finding[] {
  const meta = metadataError(r);
  if (meta) return [meta];
  const f = new Findings();
  validate(r, f);
  return f.items;
}

function toMessage(r: Resource, finding: Finding): Message {
  switch (finding.kind) {
    case 'unreachableRule':
      // Istio sets no line on these; the rule and match names tell them apart.
      return newMessage('IST0130', r, [finding.rule, finding.reason]);
    case 'ineffectiveMatch':
      return newMessage('IST0131', r, [finding.rule, finding.match, finding.duplicateOf]);
    default: {
      const code = finding.kind === 'error' ? 'IST0106' : 'IST0133';
      return newMessage(code, r, [describe(finding.path, finding.text)], finding.path.length ? finding.path : undefined);
    }
  }
}

function validationAnalyzer(kind: KindId, validate: Validator): Analyzer {
  return {
    name: `schema.ValidationAnalyzer.${kind}`,
    description: `Runs Istio's validation of ${kind} resources (what istiod's webhook rejects or warns about)`,
    inputs: [kind],
    codes: kind === 'VirtualService' ? ['IST0106', 'IST0133', 'IST0130', 'IST0131'] : ['IST0106', 'IST0133'],
    analyze(ctx) {
      for (const r of ctx.list(kind)) {
        for (const finding of validateSemantics(r, validate)) ctx.report(toMessage(r, finding));
      }
    },
  };
}

export const schemaValidationAnalyzers: Analyzer[] = VALIDATORS.map(([kind, validate]) => validationAnalyzer(kind, validate));
