// Each workload instance gets its own loopback address, so every sidecar can listen on the
// same well-known ports (15001, 15000, the service ports) without colliding. Linux routes all
// of 127.0.0.0/8 to loopback, so these addresses need no setup.

const BASE = [127, 10]; // 127.10.0.0/16, away from 127.0.0.1 where other software listens

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
