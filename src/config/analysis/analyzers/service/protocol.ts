// How Istio decides the protocol of a Kubernetes Service port: UDP from the port's protocol,
// otherwise from `appProtocol` when set, else from the port name, either `<proto>` or
// `<proto>-<suffix>` (case-insensitive). Well-known TCP ports (SMTP, DNS, MySQL, MongoDB) default
// to TCP. Anything else is unknown to Istio, which then falls back to protocol sniffing.

export type MeshProtocol =
  | 'TCP' | 'UDP' | 'GRPC' | 'GRPC-Web' | 'HTTP' | 'HTTP_PROXY' | 'HTTP2' | 'HTTPS' | 'TLS'
  | 'Mongo' | 'Redis' | 'MySQL' | 'Unsupported';

const BY_NAME: Readonly<Record<string, MeshProtocol>> = {
  tcp: 'TCP',
  udp: 'UDP',
  grpc: 'GRPC',
  'grpc-web': 'GRPC-Web',
  http: 'HTTP',
  http_proxy: 'HTTP_PROXY',
  http2: 'HTTP2',
  https: 'HTTPS',
  tls: 'TLS',
  mongo: 'Mongo',
  redis: 'Redis',
  mysql: 'MySQL',
};

/** SMTP, DNS, MySQL, MongoDB: sniffing would break these server-first protocols. */
const WELL_KNOWN_TCP_PORTS = new Set([25, 53, 3306, 27017]);

export function parseProtocol(name: string): MeshProtocol {
  return BY_NAME[name.toLowerCase()] ?? 'Unsupported';
}

export interface ServicePortLike {
  port?: number;
  name?: string;
  protocol?: string;
  appProtocol?: string | null;
}

export function servicePortProtocol(p: ServicePortLike): MeshProtocol {
  if (p.protocol === 'UDP') return 'UDP';
  let name = p.appProtocol !== undefined && p.appProtocol !== null ? String(p.appProtocol) : String(p.name ?? '');
  // `grpc-web` contains the separator, so it is matched as a prefix before splitting.
  if (name.slice(0, 8).toLowerCase() === 'grpc-web') return 'GRPC-Web';
  const dash = name.indexOf('-');
  if (dash >= 0) name = name.slice(0, dash);
  const protocol = parseProtocol(name);
  if (protocol === 'Unsupported' && WELL_KNOWN_TCP_PORTS.has(Number(p.port))) return 'TCP';
  return protocol;
}
