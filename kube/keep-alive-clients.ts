import {
  ApiConstructor,
  ApiType,
  IsomorphicFetchHttpLibrary,
  createConfiguration,
  wrapHttpLibrary,
  KubeConfig,
  RequestContext,
  ResponseContext,
  ServerConfiguration,
} from '@kubernetes/client-node';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { createSecureContext } from 'node:tls';
import { DEFAULT_REQUEST_TIMEOUT_MS } from './kube-client';

/** Makes API clients (`clients(CoreV1Api)`) that share one connection pool. */
export type ApiClientFactory = <T extends ApiType>(api: ApiConstructor<T>) => T;

export interface ApiClientOptions {
  /** Share one keep-alive connection pool (default true); false: client-node's agent per request. */
  readonly keepAlive?: boolean;
  /** Awaited before every request (e.g. a client-side rate limit's token). */
  readonly beforeRequest?: () => Promise<void>;
  /** Called as every request is sent (e.g. to count requests per verb and resource). */
  readonly onRequest?: (verb: string, url: string) => void;
  /**
   * Called when the response's headers arrive (or the request failed), with the seconds since it was
   * sent: the API round trip a caller waits for (client-go's rest_client_request_duration_seconds).
   */
  readonly onResponse?: (verb: string, url: string, seconds: number) => void;
  /**
   * Aborts a request that has not completed in this long (default {@link DEFAULT_REQUEST_TIMEOUT_MS};
   * 0: never). Watches do not come through these clients, so every request here is short.
   */
  readonly requestTimeoutMs?: number;
}

export { DEFAULT_REQUEST_TIMEOUT_MS };

/**
 * API clients that reuse TLS connections. `KubeConfig.makeApiClient` in @kubernetes/client-node 1.4
 * builds a new https.Agent for every request (and reads the CA and key files again), so every call pays
 * a TLS handshake and the API server one more connection; with dozens of pods starting at once that
 * was a large share of the node agent's CPU, and of the operator's. One keep-alive Agent built from the
 * kubeconfig's TLS settings carries every request; credentials sent as headers (tokens, including the
 * in-cluster service-account token, which client-node re-reads as it rotates) are still applied per
 * request by the kubeconfig itself.
 */
export function apiClients(kubeConfig: KubeConfig, options: ApiClientOptions = {}): ApiClientFactory {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const user = kubeConfig.getCurrentUser();
  const headerAuth = !!user && !!(user.token || user.authProvider || user.exec || user.username);
  const keepAlive = options.keepAlive ?? true;
  let agent: Promise<HttpAgent> | undefined;
  const makeAgent = async (): Promise<HttpAgent> => {
    if (cluster.server.startsWith('http:')) return new HttpAgent({ keepAlive: true });
    const tls: {
      ca?: Buffer | string;
      cert?: Buffer | string;
      key?: Buffer | string;
      rejectUnauthorized?: boolean;
      servername?: string;
    } = {};
    await kubeConfig.applyToHTTPSOptions(tls);
    return new HttpsAgent({
      // One TLS context for every connection: given as ca/cert/key, each new connection parsed the PEM
      // again into a context of its own, and the Agent built its pool key from those PEM strings on every
      // request (both showed in the node agent's CPU profile during a burst of pod starts).
      secureContext: createSecureContext({ ca: tls.ca, cert: tls.cert, key: tls.key }),
      ...(tls.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: tls.rejectUnauthorized }),
      ...(tls.servername ? { servername: tls.servername } : {}),
      keepAlive: true,
    });
  };
  const auth = {
    getName: () => 'kubeconfig-keep-alive',
    applySecurityAuthentication: async (context: RequestContext) => {
      await options.beforeRequest?.();
      if (headerAuth || !keepAlive) await kubeConfig.applySecurityAuthentication(context);
      if (keepAlive) context.setAgent(await (agent ??= makeAgent()));
    },
  };
  const onRequest = options.onRequest;
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const promiseMiddleware = [
    {
      pre: (context: RequestContext) => {
        onRequest?.(context.getHttpMethod(), context.getUrl());
        if (timeoutMs > 0) {
          const own = context.getSignal();
          const timeout = AbortSignal.timeout(timeoutMs);
          context.setSignal(own ? AbortSignal.any([own, timeout]) : timeout);
        }
        return Promise.resolve(context);
      },
      post: (response: ResponseContext) => Promise.resolve(response),
    },
  ];
  const baseServer = new ServerConfiguration(cluster.server, {});
  const onResponse = options.onResponse;
  const fetchLibrary = new IsomorphicFetchHttpLibrary();
  const httpApi = onResponse
    ? wrapHttpLibrary({
        send: async (request: RequestContext): Promise<ResponseContext> => {
          const started = performance.now();
          const done = () =>
            onResponse(request.getHttpMethod(), request.getUrl(), (performance.now() - started) / 1000);
          try {
            return await fetchLibrary.send(request).toPromise();
          } finally {
            done();
          }
        },
      })
    : undefined;
  return (api) =>
    new api(
      createConfiguration({
        baseServer,
        authMethods: { default: auth },
        promiseMiddleware,
        ...(httpApi ? { httpApi } : {}),
      }),
    );
}

/** {@link apiClients} with a keep-alive pool (kept for callers that await it). */
export function keepAliveClients(kubeConfig: KubeConfig): Promise<ApiClientFactory> {
  return Promise.resolve(apiClients(kubeConfig));
}
