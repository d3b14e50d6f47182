import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { apiClients } from './keep-alive-clients';
import { requestResource } from './request-resource';

/** A kubeconfig for a plain-HTTP test server on loopback. */
function localKubeConfig(port: number): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

describe('requestResource', () => {
  it.each([
    ['https://10.0.0.1:6443/api/v1/namespaces/ns/pods', 'pods'],
    ['https://10.0.0.1:6443/api/v1/namespaces/ns/pods/p-1/status', 'pods/status'],
    ['https://10.0.0.1:6443/api/v1/pods?labelSelector=x', 'pods'],
    ['https://h/apis/vm.neon.tech/v1/namespaces/ns/virtualmachines/vm/status', 'virtualmachines/status'],
    ['https://h/apis/vm.neon.tech/v1/virtualmachines', 'virtualmachines'],
    ['https://h/apis/coordination.k8s.io/v1/namespaces/ns/leases/l', 'leases'],
    ['https://h/api/v1/namespaces/ns', 'namespaces'],
    ['https://h/api/v1/namespaces', 'namespaces'],
    ['https://h/version', 'other'],
    ['/apis/vm.neon.tech/v1', 'other'],
  ])('%s → %s', (url, resource) => {
    expect(requestResource(url)).toBe(resource);
  });
});

describe('apiClients request timeout', () => {
  /** An API server that accepts connections and never answers (a frozen link, as a client sees it). */
  async function silentServer() {
    const server = createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as AddressInfo;
    const kc = localKubeConfig(port);
    const close = () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    return { kc, close };
  }

  it('aborts a request the server never answers, so no caller waits forever', async () => {
    const { kc, close } = await silentServer();
    try {
      const core = apiClients(kc, { requestTimeoutMs: 200 })(CoreV1Api);
      const started = Date.now();
      await expect(core.listNamespace()).rejects.toThrow(/abort/i);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await close();
    }
  });
});

describe('apiClients onResponse', () => {
  it('reports each request with its verb, URL and round-trip time, failed ones too', async () => {
    const server = createServer((req, res) => {
      if (req.url?.startsWith('/api/v1/namespaces/missing')) res.writeHead(404).end('{}');
      else
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ apiVersion: 'v1', kind: 'NamespaceList', items: [] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as AddressInfo;
    const kc = localKubeConfig(port);
    const seen: Array<[string, string, number]> = [];
    try {
      const core = apiClients(kc, { onResponse: (verb, url, s) => seen.push([verb, url, s]) })(CoreV1Api);
      await core.listNamespace();
      await expect(core.readNamespace({ name: 'missing' })).rejects.toThrow();
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expect(seen.map(([verb, url]) => [verb, requestResource(url)])).toEqual([
      ['GET', 'namespaces'],
      ['GET', 'namespaces'],
    ]);
    for (const [, , seconds] of seen) expect(seconds).toBeGreaterThanOrEqual(0);
  });
});
