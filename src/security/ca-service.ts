import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, readBody, sendError, sendJson } from '../controlplane/http-json.js';
import { BootstrapSecret } from './bootstrap-credential.js';
import { CsrError, MeshCa } from './mesh-ca.js';
import { DEFAULT_TRUST_DOMAIN } from './spiffe.js';

// The CA's endpoint on the control plane (Istio's CSR service on istiod):
//   POST /xds/v1/certificates   {"node": "<node id>", "csr": "<PEM>"}
//   Authorization: Bearer <the node's bootstrap credential>
// answers {"certificateChain": [<workload PEM>], "rootCert": <PEM>, "spiffeId", "notAfter"}.
// It lives under /xds/ with the other sidecar calls: sidecars do not hold the API token, they
// hold a credential for their own node only. The identity (namespace, service account) is the
// registry's, so a sidecar cannot ask for another one. Nothing secret is logged or echoed.

export interface CaServiceOptions {
  stateDir?: string;
  trustDomain?: string;
  /** Workload certificate lifetime (Istio's default 24 h). */
  workloadCertTtlMs?: number;
  now?: () => number;
  log?: (line: string) => void;
}

export interface NodeIdentityLookup {
  /** The namespace and service account of a known node, undefined for an unknown one. */
  (nodeId: string): { namespace: string; serviceAccount: string } | undefined;
}

export const CERTIFICATES_PATH = '/xds/v1/certificates';
const DAY_MS = 24 * 3600_000;

export class CaService {
  readonly trustDomain: string;
  readonly workloadCertTtlMs: number;
  issued = 0;
  refused = 0;

  private constructor(
    readonly ca: MeshCa,
    readonly bootstrap: BootstrapSecret,
    private readonly identityOf: NodeIdentityLookup,
    private readonly opts: CaServiceOptions,
  ) {
    this.trustDomain = opts.trustDomain ?? DEFAULT_TRUST_DOMAIN;
    this.workloadCertTtlMs = opts.workloadCertTtlMs ?? DAY_MS;
  }

  static async create(identityOf: NodeIdentityLookup, opts: CaServiceOptions = {}): Promise<CaService> {
    const ca = await MeshCa.open({ stateDir: opts.stateDir, now: opts.now });
    return new CaService(ca, BootstrapSecret.open(opts.stateDir), identityOf, opts);
  }

  /** The credential a node's sidecar must show (the local platform hands it over in a 0600 file). */
  credentialFor(nodeId: string): string {
    return this.bootstrap.credentialFor(nodeId);
  }

  /** Handles the certificate endpoint; false for any other path. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    if (url.pathname !== CERTIFICATES_PATH) return false;
    this.serve(req, res).catch((e) => sendError(res, e));
    return true;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') throw new HttpError(405, 'E_METHOD', 'use POST');
    let body: { node?: unknown; csr?: unknown };
    try {
      body = JSON.parse(await readBody(req, 64 * 1024));
    } catch (e) {
      if (e instanceof HttpError) throw e;
      throw new HttpError(400, 'E_BAD_JSON', 'request body is not JSON');
    }
    const node = typeof body.node === 'string' ? body.node : '';
    const csr = typeof body.csr === 'string' ? body.csr : '';
    if (!node || !csr) throw new HttpError(400, 'E_BAD_REQUEST', 'body needs "node" and "csr"');
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!this.bootstrap.verify(node, m?.[1])) {
      this.refused++;
      this.opts.log?.(`ca: refused a certificate for ${node}: bad or missing bootstrap credential`);
      throw new HttpError(401, 'E_BAD_CREDENTIAL', `the bootstrap credential is not valid for node ${node}`);
    }
    const who = this.identityOf(node);
    if (!who) {
      this.refused++;
      throw new HttpError(404, 'E_UNKNOWN_NODE', `node ${node} is not in the registry`);
    }
    try {
      const cert = await this.ca.sign(csr, { trustDomain: this.trustDomain, namespace: who.namespace, serviceAccount: who.serviceAccount }, this.workloadCertTtlMs);
      this.issued++;
      sendJson(res, 200, { certificateChain: [cert.certPem], rootCert: cert.rootPem, spiffeId: cert.spiffeId, notBefore: cert.notBefore, notAfter: cert.notAfter, serial: cert.serial });
    } catch (e) {
      if (e instanceof CsrError) throw new HttpError(400, 'E_BAD_CSR', e.message);
      throw e;
    }
  }

  status(): Record<string, unknown> {
    return { trustDomain: this.trustDomain, workloadCertTtlMs: this.workloadCertTtlMs, issued: this.issued, refused: this.refused };
  }
}
