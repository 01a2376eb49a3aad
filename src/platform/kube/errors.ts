// Errors a user can cause against a cluster, with stable codes: a kubeconfig that is missing or
// names no such context, an API server that cannot be reached, a request the server refused
// (RBAC, a resource that does not exist). The CLI prints `Error: message [CODE]`.

export type KubeErrorCode =
  | 'E_KUBE_CONFIG' // no usable kubeconfig / in-cluster config, or an unknown --context
  | 'E_KUBE_UNREACHABLE' // the API server did not answer (connection refused, TLS, timeout)
  | 'E_KUBE_FORBIDDEN' // 401/403: the credentials or RBAC do not allow the request
  | 'E_KUBE_NOT_FOUND' // 404 on an object or an API group
  | 'E_KUBE_CONFLICT' // 409: server-side apply conflict, or an object changed meanwhile
  | 'E_KUBE_INVALID' // 422: the server refused the object
  | 'E_KUBE_API'; // any other answer that is not a success

export class KubeError extends Error {
  constructor(
    readonly code: KubeErrorCode,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'KubeError';
  }

  format(): string {
    return `${this.message} [${this.code}]`;
  }
}

export function codeOfStatus(status: number): KubeErrorCode {
  if (status === 401 || status === 403) return 'E_KUBE_FORBIDDEN';
  if (status === 404) return 'E_KUBE_NOT_FOUND';
  if (status === 409) return 'E_KUBE_CONFLICT';
  if (status === 422) return 'E_KUBE_INVALID';
  return 'E_KUBE_API';
}
