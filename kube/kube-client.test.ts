import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeClock } from '../host';
import { coreApi, customObjectsApi } from './kube-apis';
import { KubeApiError, KubeClient } from './kube-client';
import type { KubeConnection } from './kube-connection';
import { apiErrorMessage, isAlreadyExists, isNotFound, statusCode } from './errors';
import { MERGE_PATCH } from './merge-patch';
import { TokenBucket } from './request-rate-limit';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A plain-HTTP API server on loopback answering with `handler`; records every request. */
async function apiServer(handler: (req: Seen, res: ServerResponse) => void) {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(r);
      handler(r, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const connection: KubeConnection = {
    server: `http://127.0.0.1:${port}`,
    tls: () => Promise.resolve({}),
    headers: () => Promise.resolve({ Authorization: 'Bearer t' }),
  };
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return { seen, connection, close };
}

const json = (res: ServerResponse, code: number, body: unknown) => {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

describe('KubeClient', () => {
  it('sends calls as client-node would: path, query, credentials, JSON body and patch Content-Type', async () => {
    const api = await apiServer((_req, res) =>
      json(res, 200, { kind: 'Pod', metadata: { name: 'p', creationTimestamp: '2026-12-04T10:00:00Z' } }),
    );
    const kube = new KubeClient(api.connection);
    try {
      const core = coreApi(kube);
      const pod = await core.patchNamespacedPod(
        { namespace: 'ns 1', name: 'p', body: { metadata: { labels: { a: 'b' } } }, fieldManager: 'm' },
        MERGE_PATCH,
      );
      // Plain JSON: the timestamp stays a string (client-node would have made a Date).
      expect(pod.metadata?.creationTimestamp).toBe('2026-12-04T10:00:00Z');
      await core.listPodForAllNamespaces({ labelSelector: 'vm.neon.tech/name' });
      await customObjectsApi(kube).patchNamespacedCustomObjectStatus({
        group: 'vm.neon.tech',
        version: 'v1',
        namespace: 'ns',
        plural: 'virtualmachines',
        name: 'vm',
        body: [],
      });
      const [patch, list, status] = api.seen;
      expect(patch.method).toBe('PATCH');
      expect(patch.url).toBe('/api/v1/namespaces/ns%201/pods/p?fieldManager=m');
      expect(patch.headers['content-type']).toBe('application/merge-patch+json');
      expect(patch.headers.authorization).toBe('Bearer t');
      expect(JSON.parse(patch.body)).toEqual({ metadata: { labels: { a: 'b' } } });
      expect(list.url).toBe('/api/v1/pods?labelSelector=vm.neon.tech%2Fname');
      expect(list.body).toBe('');
      // Without header options a patch is a JSON patch, as client-node's default.
      expect(status.url).toBe('/apis/vm.neon.tech/v1/namespaces/ns/virtualmachines/vm/status');
      expect(status.headers['content-type']).toBe('application/json-patch+json');
    } finally {
      await kube.close();
      await api.close();
    }
  });

  it('throws the API Status as an error errors.ts classifies', async () => {
    const api = await apiServer((req, res) =>
      req.method === 'POST'
        ? json(res, 409, { kind: 'Status', reason: 'AlreadyExists', message: 'secrets "s" already exists' })
        : json(res, 404, { kind: 'Status', reason: 'NotFound', message: 'secrets "s" not found' }),
    );
    const kube = new KubeClient(api.connection);
    try {
      const core = coreApi(kube);
      const created = core.createNamespacedSecret({ namespace: 'ns', body: { metadata: { name: 's' } } });
      await expect(created).rejects.toBeInstanceOf(KubeApiError);
      const err: unknown = await created.catch((e: unknown) => e);
      expect(statusCode(err)).toBe(409);
      expect(isAlreadyExists(err)).toBe(true);
      expect(apiErrorMessage(err)).toBe('AlreadyExists: secrets "s" already exists');
      const read: unknown = await core.readNamespacedSecret({ namespace: 'ns', name: 's' }).catch((e) => e);
      expect(isNotFound(read)).toBe(true);
      expect(String(read)).toMatch(/GET \/api\/v1\/namespaces\/ns\/secrets\/s: HTTP 404 NotFound/);
    } finally {
      await kube.close();
      await api.close();
    }
  });

  it('aborts a request the server never answers, so no caller waits forever', async () => {
    const api = await apiServer(() => undefined);
    const kube = new KubeClient(api.connection, { requestTimeoutMs: 200 });
    try {
      await expect(coreApi(kube).readNamespacedSecret({ namespace: 'ns', name: 's' })).rejects.toThrow(
        /aborted after 200 ms/,
      );
    } finally {
      await kube.close();
      await api.close();
    }
  });

  it('counts and times every request, and takes a rate-limit token before each', async () => {
    const api = await apiServer((_req, res) => json(res, 200, {}));
    const clock = new FakeClock();
    const bucket = new TokenBucket({ qps: 1, burst: 1 }, clock);
    const events: string[] = [];
    const kube = new KubeClient(api.connection, {
      beforeRequest: () => bucket.acquire(),
      onRequest: (verb, url) => events.push(`request ${verb} ${new URL(url).pathname}`),
      onResponse: (verb, _url, seconds) => events.push(`response ${verb} ${seconds >= 0}`),
    });
    try {
      const core = coreApi(kube);
      await core.deleteNamespacedPod({ namespace: 'ns', name: 'p' });
      let second = false;
      const pending = core.deleteNamespacedPod({ namespace: 'ns', name: 'q' }).then(() => (second = true));
      await new Promise((resolve) => setImmediate(resolve));
      expect(bucket.waiting).toBe(1);
      expect(api.seen).toHaveLength(1);
      clock.advance(1000);
      await pending;
      expect(second).toBe(true);
      expect(events).toEqual([
        'request DELETE /api/v1/namespaces/ns/pods/p',
        'response DELETE true',
        'request DELETE /api/v1/namespaces/ns/pods/q',
        'response DELETE true',
      ]);
    } finally {
      await kube.close();
      await api.close();
    }
  });
});

describe('KubeClient.watch', () => {
  it('delivers events split across chunks, then done without an error when the server ends', async () => {
    const api = await apiServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"1"}}}\n{"type":"MOD');
      setTimeout(() => {
        res.write('IFIED","object":{"metadata":{"name":"a","resourceVersion":"2"}}}\n');
        res.end('{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"3"}}}\n');
      }, 20);
    });
    const kube = new KubeClient(api.connection);
    try {
      const events: string[] = [];
      const done = new Promise<unknown>((resolve) => {
        void kube.watch(
          '/api/v1/pods',
          { resourceVersion: '0', labelSelector: undefined },
          (type, obj) =>
            events.push(
              `${type} ${(obj as { metadata: { resourceVersion: string } }).metadata.resourceVersion}`,
            ),
          resolve,
        );
      });
      expect(await done).toBeUndefined();
      expect(events).toEqual(['ADDED 1', 'MODIFIED 2', 'BOOKMARK 3']);
      expect(api.seen[0].url).toBe('/api/v1/pods?resourceVersion=0&watch=true');
      expect(api.seen[0].headers.authorization).toBe('Bearer t');
    } finally {
      await kube.close();
      await api.close();
    }
  });

  it('reports a refused watch as the API error, and an aborted one as AbortError', async () => {
    const api = await apiServer((req, res) => {
      if (req.url?.includes('gone')) json(res, 410, { kind: 'Status', code: 410, reason: 'Expired' });
      else res.writeHead(200).flushHeaders(); // stays open
    });
    const kube = new KubeClient(api.connection);
    try {
      const refused = await new Promise<unknown>((resolve) => {
        void kube.watch('/gone', {}, () => undefined, resolve);
      });
      expect(statusCode(refused)).toBe(410);
      let abort: AbortController | undefined;
      const ended = new Promise<unknown>((resolve) => {
        void kube.watch('/open', {}, () => undefined, resolve).then((a) => (abort = a));
      });
      while (api.seen.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
      abort?.abort();
      expect((await ended) as Error).toMatchObject({ name: 'AbortError' });
    } finally {
      await kube.close();
      await api.close();
    }
  });
});
