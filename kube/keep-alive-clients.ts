import {
  ApiConstructor,
  ApiType,
  createConfiguration,
  KubeConfig,
  RequestContext,
  ServerConfiguration,
} from '@kubernetes/client-node';
import { Agent } from 'node:https';

/** Makes API clients (`clients(CoreV1Api)`) that share one connection pool. */
export type ApiClientFactory = <T extends ApiType>(api: ApiConstructor<T>) => T;

/**
 * API clients that reuse TLS connections. `KubeConfig.makeApiClient` in @kubernetes/client-node 1.4
 * builds a new https.Agent for every request, so every call pays a TLS handshake (and the API server
 * one more connection); with dozens of pods starting at once that was a large share of the node
 * agent's CPU. Our kubeconfigs authenticate with a client certificate, so one keep-alive Agent holding
 * that certificate can carry every request.
 */
export async function keepAliveClients(kubeConfig: KubeConfig): Promise<ApiClientFactory> {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const tls: { ca?: Buffer | string; cert?: Buffer | string; key?: Buffer | string } = {};
  await kubeConfig.applyToHTTPSOptions(tls);
  const agent = new Agent({ ca: tls.ca, cert: tls.cert, key: tls.key, keepAlive: true });
  const auth = {
    getName: () => 'client-certificate-keep-alive',
    applySecurityAuthentication: (context: RequestContext) => context.setAgent(agent),
  };
  return (api) =>
    new api(
      createConfiguration({
        baseServer: new ServerConfiguration(cluster.server, {}),
        authMethods: { default: auth },
      }),
    );
}
