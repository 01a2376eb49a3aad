import type { Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';

// Istio ignores Gateway API CRDs older than the version it was built against: the matching
// resources (e.g. TLSRoutes) are silently never processed, so routes attach to nothing.
// Flags each such CRD from its bundle-version annotation.

const BUNDLE_VERSION_ANNOTATION = 'gateway.networking.k8s.io/bundle-version';

/** Lowest bundle version Istio accepts per Gateway API CRD (Istio's gatewayapi.MinimumCRDVersions). */
const MINIMUM_CRD_VERSIONS: Readonly<Record<string, string>> = {
  'grpcroutes.gateway.networking.k8s.io': '1.1.0',
  'backendtlspolicies.gateway.networking.k8s.io': '1.4.0',
  'tlsroutes.gateway.networking.k8s.io': '1.5.0',
  'tcproutes.gateway.networking.k8s.io': '1.6.0',
};

interface Version {
  major: number;
  minor: number;
  patch: number;
  prerelease: string;
  metadata: string;
}

// Loose semver as the Masterminds library reads it: optional `v`, minor and patch optional.
const VERSION_RE = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

export function parseVersion(s: string): Version | undefined {
  const m = VERSION_RE.exec(s.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2] ?? 0), patch: Number(m[3] ?? 0), prerelease: m[4] ?? '', metadata: m[5] ?? '' };
}

/** The version printed without a `v` prefix, minor/patch filled in. */
function formatVersion(v: Version): string {
  return `${v.major}.${v.minor}.${v.patch}${v.prerelease ? `-${v.prerelease}` : ''}${v.metadata ? `+${v.metadata}` : ''}`;
}

/** Compare release numbers only: a prerelease of the minimum (e.g. 1.5.0-rc.1) is accepted. */
function releaseBelow(v: Version, min: Version): boolean {
  if (v.major !== min.major) return v.major < min.major;
  if (v.minor !== min.minor) return v.minor < min.minor;
  return v.patch < min.patch;
}

export const crdVersionAnalyzer: Analyzer = {
  name: 'k8sgateway.CRDVersionAnalyzer',
  description: 'Finds Gateway API CRDs installed at a bundle version older than the one Istio needs for that route or policy kind',
  inputs: ['CustomResourceDefinition'],
  codes: ['IST0176'],
  analyze(ctx) {
    for (const crd of ctx.list('CustomResourceDefinition')) {
      const name = crd.metadata.name;
      const minimum = MINIMUM_CRD_VERSIONS[name];
      if (minimum === undefined) continue;
      // Without the annotation istiod logs its own error; nothing to compare here.
      const annotated = crd.metadata.annotations?.[BUNDLE_VERSION_ANNOTATION];
      if (annotated === undefined) continue;
      const installed = parseVersion(String(annotated));
      if (!installed) continue;
      const min = parseVersion(minimum)!;
      if (releaseBelow(installed, min)) ctx.report(newMessage('IST0176', crd, [name, formatVersion(installed), formatVersion(min)]));
    }
  },
};
