import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeError } from './errors.js';

// Where the cluster is and who we are, as kubectl finds it: --kubeconfig, else $KUBECONFIG, else
// ~/.kube/config; inside a pod (no kubeconfig, KUBERNETES_SERVICE_HOST set) the service
// account's token and CA. @kubernetes/client-node does the reading, the auth plugins (exec,
// OIDC, tokens, client certificates) and the in-cluster rules.

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export interface KubeConfigOptions {
  kubeconfig?: string;
  context?: string;
}

export function loadKubeConfig(opts: KubeConfigOptions = {}): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (opts.kubeconfig) {
      if (!existsSync(opts.kubeconfig)) throw new KubeError('E_KUBE_CONFIG', `kubeconfig ${opts.kubeconfig}: no such file`);
      kc.loadFromFile(opts.kubeconfig);
    } else {
      if (!process.env.KUBECONFIG && !existsSync(join(homedir(), '.kube', 'config')) && !existsSync(SERVICE_ACCOUNT_TOKEN)) {
        // client-node would fall back to http://localhost:8080; say what is missing instead.
        throw new KubeError('E_KUBE_CONFIG', 'no kubeconfig: give --kubeconfig, set KUBECONFIG, create ~/.kube/config, or run inside a pod');
      }
      // Reads $KUBECONFIG (several files merged), ~/.kube/config, or the in-cluster service account.
      kc.loadFromDefault();
    }
  } catch (e) {
    if (e instanceof KubeError) throw e;
    throw new KubeError('E_KUBE_CONFIG', `cannot read the kubeconfig: ${(e as Error).message}`);
  }
  if (opts.context !== undefined) {
    if (!kc.getContextObject(opts.context)) throw new KubeError('E_KUBE_CONFIG', `context "${opts.context}" is not in the kubeconfig (contexts: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`);
    kc.setCurrentContext(opts.context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) throw new KubeError('E_KUBE_CONFIG', 'no cluster: give --kubeconfig, set KUBECONFIG, or run inside a pod');
  return kc;
}

/** The namespace of the current context (kubectl's default for -n), `default` when it names none. */
export function contextNamespace(kc: KubeConfig): string {
  const ctx = kc.getContextObject(kc.getCurrentContext());
  return ctx?.namespace || 'default';
}
