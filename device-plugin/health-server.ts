/**
 * /healthz (the process answers: liveness) and /readyz (every resource registered with the current
 * kubelet: readiness, so a DaemonSet rollout waits for it), both with the daemon's status as JSON.
 */
import { createServer, type Server } from 'node:http';
import type { DaemonStatus } from './daemon';

export async function startHealthServer(
  port: number,
  status: () => DaemonStatus,
  host = '0.0.0.0',
): Promise<{ readonly server: Server; readonly port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || (path !== '/healthz' && path !== '/readyz')) {
      res.writeHead(404).end();
      return;
    }
    const s = status();
    const code = path === '/readyz' && !s.ready ? 503 : 200;
    res.writeHead(code, { 'content-type': 'application/json' }).end(`${JSON.stringify(s)}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return {
    server,
    port: typeof address === 'object' && address ? address.port : port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
