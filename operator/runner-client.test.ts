import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RunnerApiError, RunnerClient, RunnerConnectionError, RunnerTimeoutError } from '../runner/api';
import { nodeHttpFetch } from './runner-client';

describe('nodeHttpFetch (the operator runner transport)', () => {
  it('carries the runner client: JSON answers, error statuses, timeouts, refused connections', async () => {
    const seen: Array<{ method?: string; url?: string; auth?: string; body: string }> = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
        if (req.url === '/cpu_change') {
          res.writeHead(409, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: 'busy' }));
        } else if (req.url === '/status') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ qemuStatus: 'running' }));
        } // else: never answers
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as AddressInfo;
    const client = new RunnerClient({
      baseUrl: `http://127.0.0.1:${port}`,
      token: 't',
      timeoutMs: 200,
      fetch: nodeHttpFetch,
    });
    try {
      expect(await client.status()).toMatchObject({ qemuStatus: 'running' });
      expect(seen[0]).toEqual({ method: 'GET', url: '/status', auth: 'Bearer t', body: '' });
      const refused = client.setCpu(2000);
      await expect(refused).rejects.toBeInstanceOf(RunnerApiError);
      await expect(refused).rejects.toMatchObject({ status: 409 });
      expect(seen[1].method).toBe('POST');
      expect(seen[1].body).not.toBe('');
      await expect(client.migration()).rejects.toBeInstanceOf(RunnerTimeoutError);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await expect(client.status()).rejects.toBeInstanceOf(RunnerConnectionError);
  });
});
