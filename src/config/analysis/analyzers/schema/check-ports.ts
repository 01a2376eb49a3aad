import { isDNS1123Label } from './check-hosts.js';

// Port numbers and port names (Gateway servers, ServiceEntries, Sidecars, workloads).

export function checkPort(port: number): string | undefined {
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? undefined : `port number ${port} is not in the range 1..65535`;
}

/** Port names are DNS-1123 labels. */
export function checkPortName(name: string): string | undefined {
  return isDNS1123Label(name) ? undefined : `invalid port name "${name}" (must be a DNS-1123 label)`;
}
