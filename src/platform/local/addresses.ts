// Each workload instance gets its own loopback address, so every sidecar can listen on the
// same well-known ports (15001, 15000, the service ports) without colliding. Linux routes all
// of 127.0.0.0/8 to loopback, so these addresses need no setup.

const BASE = [127, 10]; // 127.10.0.0/16, away from 127.0.0.1 where other software listens

/**
 * The /16 for instance addresses: `MESHMEDIC_ADDRESS_BASE` (`127.N`) lets two meshes run on one
 * machine (tests run meshes side by side); else 127.10.
 */
export function addressBase(env: NodeJS.ProcessEnv = process.env): number[] {
  const m = /^127\.(\d{1,3})$/.exec(env.MESHMEDIC_ADDRESS_BASE ?? '');
  return m && Number(m[1]) <= 255 ? [127, Number(m[1])] : BASE;
}

export class AddressAllocator {
  private next = 1;
  private readonly byName = new Map<string, string>();

  constructor(private readonly base: readonly number[] = BASE) {}

  /** The same name always gets the same address. */
  allocate(name: string): string {
    let a = this.byName.get(name);
    if (!a) {
      const n = this.next++;
      if (n > 255 * 254) throw new Error('out of loopback addresses for workload instances');
      a = `${this.base[0]}.${this.base[1]}.${Math.floor(n / 254)}.${(n % 254) + 1}`;
      this.byName.set(name, a);
    }
    return a;
  }
}
