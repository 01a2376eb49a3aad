import { isIP } from 'node:net';
import type { Resource } from '../../../../api/resource.js';
import type { AnalysisContext, Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';

// On a remote cluster served by an external istiod, the injection and validation webhooks reach
// istiod by URL instead of an in-cluster Service. A webhook with neither, or with a URL that has
// no usable host, breaks pod creation or config validation. A raw IP works but ties the cluster
// to one address that may change, so it is flagged as a hint.
//
// Istio also resolves each hostname through DNS. Analysis here is offline and synchronous, so a
// well-formed hostname is accepted without a lookup; an empty host can never resolve and is flagged.

const DEFAULT_VALIDATOR = 'istiod-default-validator';
const VALIDATOR_PREFIX = 'istio-validator';
const INJECTOR_PREFIX = 'istio-sidecar-injector';

type UrlCheck = { ok: true; ip: boolean } | { ok: false; problem: string };

/** The host part of a webhook URL (Go `url.Parse` + `Hostname()` rules), or undefined if malformed. */
function hostOf(url: string): string | undefined {
  if (/[\x00-\x1f\x7f]/.test(url)) return undefined;
  const m = /^(?:[A-Za-z][A-Za-z0-9+.-]*:)?\/\/([^/?#]*)/.exec(url);
  if (!m) return ''; // no authority: a bare path has no host
  const authority = m[1].slice(m[1].lastIndexOf('@') + 1);
  let host = authority, port = '';
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    if (end < 0) return undefined;
    host = authority.slice(1, end);
    port = authority.slice(end + 1);
    if (port && !port.startsWith(':')) return undefined;
    port = port.slice(1);
  } else if (authority.includes(':')) {
    host = authority.slice(0, authority.lastIndexOf(':'));
    port = authority.slice(authority.lastIndexOf(':') + 1);
  }
  if (port && !/^\d+$/.test(port)) return undefined;
  if (!/^[A-Za-z0-9.\-_~!$&'()*+,;=%:]*$/.test(host)) return undefined;
  return host;
}

function checkUrl(url: string): UrlCheck {
  const host = hostOf(url);
  if (host === undefined) return { ok: false, problem: 'is not a well-formed URL' };
  if (isIP(host)) return { ok: true, ip: true };
  if (host === '') return { ok: false, problem: 'has no host name that DNS could resolve' };
  return { ok: true, ip: false };
}

/** One message per webhook of an external-control-plane configuration whose client config is unusable. */
function checkWebhooks(ctx: AnalysisContext, cfg: Resource): void {
  for (const wh of Array.isArray(cfg.raw?.webhooks) ? cfg.raw.webhooks : []) {
    const name = String(wh?.name ?? '');
    const url = wh?.clientConfig?.url;
    if (url === undefined || url === null) {
      // A Service reference means an in-cluster istiod: nothing external to check.
      if (!wh?.clientConfig?.service) ctx.report(newMessage('IST0163', cfg, ['', name, 'is empty']));
      continue;
    }
    const result = checkUrl(String(url));
    if (!result.ok) ctx.report(newMessage('IST0163', cfg, [String(url), name, result.problem]));
    else if (result.ip) ctx.report(newMessage('IST0164', cfg, [String(url), name]));
  }
}

export const externalControlPlaneAnalyzer: Analyzer = {
  name: 'externalcontrolplane.ExternalControlPlaneAnalyzer',
  description: 'Checks that the webhooks of a remote cluster reference a reachable external control plane',
  inputs: ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'],
  codes: ['IST0163', 'IST0164'],
  analyze(ctx) {
    // Istio's charts name these istio-validator[-<rev>]-<ns> / istiod-default-validator and istio-sidecar-injector[-<rev>][-<ns>].
    for (const cfg of ctx.list('ValidatingWebhookConfiguration')) {
      const n = cfg.metadata.name;
      if (n === DEFAULT_VALIDATOR || n.startsWith(VALIDATOR_PREFIX)) checkWebhooks(ctx, cfg);
    }
    for (const cfg of ctx.list('MutatingWebhookConfiguration')) {
      if (cfg.metadata.name.startsWith(INJECTOR_PREFIX)) checkWebhooks(ctx, cfg);
    }
  },
};
