import type { FieldPath, Resource } from '../../../../api/resource.js';
import { checkFQDN } from './check-hosts.js';
import { isIPAddress } from './check-ip-addresses.js';
import { checkPort, checkPortName } from './check-ports.js';
import { checkLabels } from './check-selectors.js';
import type { Findings } from './findings.js';
import { checkUnixAddress } from './gateway-rules.js';
import { entries, num, obj, str, type Obj } from './yaml-values.js';

// WorkloadEntry rules (Istio's ValidateWorkloadEntry): an address (IP, host name or unix
// socket) unless a network gateway reaches the workload, named ports in range, valid labels.
// ServiceEntry endpoints are WorkloadEntries too and reuse this check.

const UNIX_PREFIX = 'unix://';

export function validateWorkloadEntry(r: Resource, f: Findings): void {
  checkWorkloadEntry(f, ['spec'], obj(r.spec) ?? {}, undefined, true);
}

/**
 * One workload entry. `servicePorts` are the port names of the ServiceEntry it belongs to
 * (undefined for a standalone WorkloadEntry); `allowHostnames` accepts DNS names as addresses.
 */
export function checkWorkloadEntry(f: Findings, p: FieldPath, we: Obj, servicePorts: Set<string> | undefined, allowHostnames: boolean): void {
  const address = str(we.address);
  if (address === '') {
    if (str(we.network) === '') {
      f.error(p, 'an address is required');
      return;
    }
    f.warn([...p, 'network'], `address is unset; the workload is reached through network "${str(we.network)}"`);
  }
  const unix = address.startsWith(UNIX_PREFIX);
  if (unix) {
    const err = checkUnixAddress(address.slice(UNIX_PREFIX.length));
    if (err) f.error([...p, 'address'], err);
    if (entries(we.ports).length) f.error([...p, 'ports'], `unix endpoint ${address} must not have ports`);
  } else if (address !== '' && !isIPAddress(address)) {
    if (!allowHostnames) f.error([...p, 'address'], `endpoint address "${address}" is not a valid IP address`);
    else if (checkFQDN(address)) f.error([...p, 'address'], `endpoint address "${address}" is neither a valid host name nor an IP address`);
  }
  for (const [name, port] of entries(we.ports)) {
    const pp = [...p, 'ports', name];
    if (servicePorts && !servicePorts.has(name)) f.error(pp, `endpoint port ${num(port)} (${name}) is not a port of the ServiceEntry`);
    const nameErr = checkPortName(name);
    if (nameErr) f.error(pp, nameErr);
    const portErr = checkPort(num(port));
    if (portErr) f.error(pp, portErr);
  }
  checkLabels(f, [...p, 'labels'], we.labels);
  if (unix && servicePorts && servicePorts.size !== 1) f.error(p, 'a unix endpoint needs exactly one service port');
}
