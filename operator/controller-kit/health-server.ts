/** HTTP server for probes and scrapes: `/healthz` (process alive), `/readyz` (checks), `/metrics`. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export type ReadinessCheck = () => boolean;

export interface HealthServerOptions {
  readonly registry: Registry;
  /** Named checks; `/readyz` answers 200 only when all pass. */
  readonly readiness?: Record<string, ReadinessCheck>;
}

export class HealthServer {
  private readonly server: Server;

  constructor(private readonly options: HealthServerOptions) {
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/healthz' || path === '/livez') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      } else if (path === '/readyz') {
        const failing = Object.entries(this.options.readiness ?? {})
          .filter(([, check]) => !check())
          .map(([name]) => name);
        res
          .writeHead(failing.length === 0 ? 200 : 503, { 'content-type': 'text/plain' })
          .end(failing.length === 0 ? 'ok' : `not ready: ${failing.join(', ')}`);
      } else if (path === '/metrics') {
        this.options.registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': this.options.registry.contentType }).end(text),
          (err: unknown) => res.writeHead(500).end(String(err)),
        );
      } else {
        res.writeHead(404).end();
      }
    });
  }

  /** Listens on `host:port` (port 0 = any); resolves with the bound port. */
  listen(port: number, host = '0.0.0.0'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Parses `:8080`, `0.0.0.0:8080` or `8080` into host and port. */
export function parseBindAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  const host = i > 0 ? address.slice(0, i) : '0.0.0.0';
  const port = Number(i >= 0 ? address.slice(i + 1) : address);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`invalid bind address '${address}'`);
  return { host, port };
}
