import { createSecureContext, type SecureContext } from 'node:tls';
import type { Clock, TimerHandle } from '../clock.js';
import { principalOf } from '../../security/spiffe.js';
import { createCsr, generateKeyPair, privateKeyPem } from '../../security/x509.js';

// A sidecar's workload certificate (Istio's SDS in the agent): a fresh key and CSR, signed by
// the mesh CA, held as one node:tls SecureContext (key, certificate, trust bundle) that both the
// inbound listeners and the upstream connections use. Rotation happens when half the lifetime is
// gone (Istio's SECRET_GRACE_PERIOD_RATIO 0.5), on the injected clock: the new context is
// swapped in whole, so connections opened after the swap present the new certificate and the
// ones already open (and their requests in flight) go on with the one they handshook with.

/** What the CA answered. */
export interface SignedCertificate {
  certificateChain: string[];
  rootCert: string;
  spiffeId: string;
  notBefore: number;
  notAfter: number;
  serial?: string;
}

/** Who signs: the control plane's endpoint in a sidecar process, anything in tests. */
export type CertificateSigner = (csrPem: string) => Promise<SignedCertificate>;

export interface MtlsMaterial {
  readonly secureContext: SecureContext;
  /** `spiffe://...` of this workload. */
  readonly spiffeId: string;
  /** The id as principals are written (`cluster.local/ns/x/sa/y`). */
  readonly principal: string;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly serial: string;
  /** Trust domain the peers' ids must be in. */
  readonly trustDomain: string;
}

export interface WorkloadCredentialsOptions {
  signer: CertificateSigner;
  clock: Clock;
  /** Fraction of the lifetime after which the certificate is renewed (default 0.5). */
  renewAtRatio?: number;
  /** Wait before retrying a failed signing (default 250 ms, doubling up to 5 s). */
  retryMs?: number;
  log?: (message: string) => void;
}

export class WorkloadCredentials {
  private material: MtlsMaterial | null = null;
  private timer: TimerHandle = undefined;
  private stopped = false;
  private failures = 0;
  /** Certificates installed so far (1 after the first, +1 per rotation). */
  installed = 0;
  private readonly listeners = new Set<(m: MtlsMaterial) => void>();

  constructor(private readonly opts: WorkloadCredentialsOptions) {}

  /** The material in force (null until the first certificate is in). */
  get current(): MtlsMaterial | null {
    return this.material;
  }

  /** Gets the first certificate (retrying with backoff in the background when it fails); resolves once one attempt is over. */
  async start(): Promise<void> {
    await this.renewNow().catch(() => undefined);
  }

  /** Called after each installed certificate (tests and the admin page watch rotations). */
  onInstalled(fn: (m: MtlsMaterial) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** A new key and certificate now; the next renewal is scheduled from it. Rejects when the CA refused (a retry is scheduled). */
  async renewNow(): Promise<MtlsMaterial> {
    this.cancel();
    try {
      const keys = await generateKeyPair();
      const keyPem = await privateKeyPem(keys.privateKey);
      const signed = await this.opts.signer(await createCsr(keys, 'meshmedic-workload'));
      if (this.stopped) throw new Error('credentials stopped');
      const m: MtlsMaterial = {
        secureContext: createSecureContext({ key: keyPem, cert: signed.certificateChain.join('\n'), ca: signed.rootCert, minVersion: 'TLSv1.2' }),
        spiffeId: signed.spiffeId,
        principal: principalOf(signed.spiffeId),
        notBefore: signed.notBefore,
        notAfter: signed.notAfter,
        serial: signed.serial ?? '',
        trustDomain: principalOf(signed.spiffeId).split('/')[0],
      };
      this.material = m;
      this.installed++;
      this.failures = 0;
      this.schedule(this.renewDelay(m));
      for (const fn of this.listeners) fn(m);
      this.opts.log?.(`workload certificate ${m.spiffeId} installed, valid until ${new Date(m.notAfter).toISOString()}`);
      return m;
    } catch (e) {
      if (!this.stopped) {
        this.failures++;
        // Short waits first: at start the control plane may come up after its sidecars.
        const wait = Math.min(5_000, (this.opts.retryMs ?? 250) * 2 ** Math.min(this.failures - 1, 5));
        this.opts.log?.(`workload certificate: ${(e as Error).message}; retrying in ${wait} ms`);
        this.schedule(wait);
      }
      throw e;
    }
  }

  stop(): void {
    this.stopped = true;
    this.cancel();
  }

  private renewDelay(m: MtlsMaterial): number {
    const ratio = this.opts.renewAtRatio ?? 0.5;
    const at = m.notBefore + (m.notAfter - m.notBefore) * ratio;
    return Math.max(0, at - this.opts.clock.now());
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = undefined;
      this.renewNow().catch(() => undefined);
    }, ms);
  }

  private cancel(): void {
    if (this.timer !== undefined) this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** Signs through the control plane's CA endpoint with the node's bootstrap credential. */
export function controlPlaneSigner(baseUrl: string, nodeId: string, credential: string): CertificateSigner {
  return async (csr) => {
    const res = await fetch(`${baseUrl}/xds/v1/certificates`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${credential}` },
      body: JSON.stringify({ node: nodeId, csr }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json().catch(() => ({}))) as SignedCertificate & { error?: { code: string; message: string } };
    if (!res.ok) throw new Error(`CA answered ${res.status} ${body.error?.code ?? ''}: ${body.error?.message ?? ''}`);
    return body;
  };
}
