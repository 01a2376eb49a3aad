// The protocols a port may declare, and the HTTP / TLS / TCP families Istio's rules group them
// into (a Gateway server's TLS settings, for one, depend on the family).

export type Protocol = 'GRPC' | 'GRPC-Web' | 'HTTP' | 'HTTP_PROXY' | 'HTTP2' | 'HTTPS' | 'TCP' | 'TLS' | 'UDP' | 'Mongo' | 'Redis' | 'MySQL' | 'Unsupported';

const PROTOCOLS: Record<string, Protocol> = {
  tcp: 'TCP', udp: 'UDP', grpc: 'GRPC', 'grpc-web': 'GRPC-Web', http: 'HTTP', http_proxy: 'HTTP_PROXY',
  http2: 'HTTP2', https: 'HTTPS', tls: 'TLS', mongo: 'Mongo', redis: 'Redis', mysql: 'MySQL',
};

/** Istio's protocol.Parse: case-insensitive, anything else is unsupported. */
export function parseProtocol(s: string): Protocol {
  return PROTOCOLS[s.toLowerCase()] ?? 'Unsupported';
}

export const isHTTPProtocol = (p: Protocol) => p === 'HTTP' || p === 'HTTP2' || p === 'HTTP_PROXY' || p === 'GRPC' || p === 'GRPC-Web';
export const isTLSProtocol = (p: Protocol) => p === 'HTTPS' || p === 'TLS';
export const isTCPProtocol = (p: Protocol) => p === 'TCP' || p === 'HTTPS' || p === 'TLS' || p === 'Mongo' || p === 'Redis' || p === 'MySQL';

/** An empty protocol is allowed (protocol sniffing); an unknown one is not. */
export function checkProtocol(s: string): string | undefined {
  return s !== '' && parseProtocol(s) === 'Unsupported' ? `unsupported protocol "${s}"` : undefined;
}
