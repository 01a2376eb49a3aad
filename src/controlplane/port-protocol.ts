import type { PortProtocol } from '../api/snapshot.js';

// Which protocol a service port speaks, the way Istio decides it: `appProtocol` first, then the
// port name's prefix (`http-web`, `grpc`, `tcp-db`; Istio's "protocol selection" naming), then a
// ServiceEntry's `protocol` field. Istio sniffs the protocol of a port it cannot classify; we
// have no sniffing, so an unnamed or unclassified port is treated as HTTP/1.1 (what the synthetic
// workloads speak). A TCP service must therefore name its port `tcp-...` (or set appProtocol),
// which is also what Istio recommends.

/** `undefined` means: the mesh does not carry this port (UDP, SCTP). */
export function protocolOfName(value: string | undefined): PortProtocol | undefined {
  const v = (value ?? '').toLowerCase();
  if (v === 'kubernetes.io/h2c') return 'http2';
  if (v === 'kubernetes.io/ws') return 'http';
  if (v === 'kubernetes.io/wss') return 'tcp';
  // `grpc-web` is a protocol name with a dash in it; everything else is `<protocol>[-<suffix>]`.
  const prefix = v.startsWith('grpc-web') ? 'grpc-web' : v.split('-', 1)[0];
  switch (prefix) {
    case 'http':
    case 'http_proxy':
      return 'http';
    case 'http2':
      return 'http2';
    case 'grpc':
    case 'grpc-web':
      return 'grpc';
    case 'tcp':
    case 'tls':
    case 'https': // TLS carried opaquely, as Istio does for https ports
    case 'mongo':
    case 'mysql':
    case 'redis':
      return 'tcp';
    case 'udp':
    case 'sctp':
      return undefined;
    default:
      return 'http'; // Istio: auto-detect; meshmedic: HTTP/1.1
  }
}

/** Protocol of a Kubernetes Service port: appProtocol, then name; UDP/SCTP ports are not meshed. */
export function kubernetesPortProtocol(port: { name?: string; appProtocol?: string; protocol?: string }): PortProtocol | undefined {
  const transport = (port.protocol ?? 'TCP').toUpperCase();
  if (transport !== 'TCP') return undefined;
  if (port.appProtocol) return protocolOfName(port.appProtocol);
  return protocolOfName(port.name);
}

/** Protocol of a ServiceEntry port: its `protocol` field (HTTP, HTTP2, GRPC, TCP, TLS, HTTPS, MONGO, ...), else its name. */
export function serviceEntryPortProtocol(port: { name?: string; protocol?: string }): PortProtocol | undefined {
  return port.protocol ? protocolOfName(port.protocol) : protocolOfName(port.name);
}

export function isHttpProtocol(p: PortProtocol): boolean {
  return p !== 'tcp';
}

/** The upstream protocol of a cluster for a port protocol (gRPC rides on HTTP/2). */
export function clusterProtocol(p: PortProtocol): 'http1' | 'http2' | 'tcp' {
  return p === 'tcp' ? 'tcp' : p === 'http' ? 'http1' : 'http2';
}
