import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// The per-workload bootstrap credential a sidecar shows when it asks the CA for a certificate
// (Istio's projected service-account token, in the local platform's terms). It is an HMAC of the
// node id under a secret kept in the state directory (0600): the mesh daemon, which launches the
// sidecars and can read the state directory, derives each sidecar's credential and hands it over
// in a 0600 file; the control plane verifies it without keeping a list. A credential names one
// node: a sidecar cannot get another workload's identity with it.

export class BootstrapSecret {
  private constructor(private readonly secret: Buffer) {}

  /** The state directory's secret (`<dir>/ca/bootstrap-secret`), created on first use; absent dir: a random one in memory. */
  static open(stateDir?: string): BootstrapSecret {
    if (!stateDir) return new BootstrapSecret(randomBytes(32));
    const dir = join(stateDir, 'ca');
    const file = join(dir, 'bootstrap-secret');
    if (!existsSync(file)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      // Written whole under another name, then linked: a reader never sees a half-written file,
      // and of two processes racing (the daemon, the control plane) the first link wins.
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, randomBytes(32).toString('hex'), { mode: 0o600 });
      try {
        linkSync(tmp, file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      } finally {
        unlinkSync(tmp);
      }
    }
    return new BootstrapSecret(Buffer.from(readFileSync(file, 'utf8').trim(), 'hex'));
  }

  credentialFor(nodeId: string): string {
    return createHmac('sha256', this.secret).update(`meshmedic-bootstrap:${nodeId}`).digest('base64url');
  }

  verify(nodeId: string, credential: string | undefined): boolean {
    if (!credential) return false;
    const want = Buffer.from(this.credentialFor(nodeId));
    const got = Buffer.from(credential);
    return want.length === got.length && timingSafeEqual(want, got);
  }
}

/** Where the daemon leaves a sidecar's credential: `<state>/credentials/<node id>` (0600). */
export function writeCredentialFile(stateDir: string, nodeId: string, credential: string): string {
  const dir = join(stateDir, 'credentials');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, nodeId.replace(/[^A-Za-z0-9._-]/g, '_'));
  writeFileSync(file, credential, { mode: 0o600 });
  return file;
}
