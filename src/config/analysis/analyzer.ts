import type { KindId } from '../../api/kinds.js';
import type { Resource } from '../../api/resource.js';
import type { MeshConfig, MeshNetworks } from '../mesh.js';
import type { Message } from './message.js';

/**
 * One analyzer checks one rule (Kiali's "one checker per rule"). It declares Istio's analyzer
 * name, the kinds it reads and the codes it may emit; the runner gives it only those kinds.
 */
export interface Analyzer {
  /** Istio's `Metadata().Name`, e.g. `virtualservice.DestinationHostAnalyzer`. */
  name: string;
  description: string;
  inputs: readonly KindId[];
  /** Codes this analyzer may report. */
  codes: readonly string[];
  /** False for analyzers Istio leaves out of `istioctl analyze` by default (alpha ones). */
  defaultEnabled?: boolean;
  analyze(ctx: AnalysisContext): void;
}

export interface AnalysisContext {
  /** All resources of a kind, sorted by namespace then name. */
  list<S = any>(kind: KindId): Resource<S>[];
  get<S = any>(kind: KindId, namespace: string, name: string): Resource<S> | undefined;
  report(message: Message): void;
  readonly meshConfig: MeshConfig;
  readonly meshNetworks: MeshNetworks;
  /** Namespace of the Istio control plane (`istio-system`). */
  readonly istioNamespace: string;
  /** Environment of istiod that some analyzers read (feature flags such as BLOCKED_CIDRS_IN_JWKS_URIS). */
  readonly env: Readonly<Record<string, string>>;
}
