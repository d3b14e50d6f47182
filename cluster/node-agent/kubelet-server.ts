import { readFileSync } from 'node:fs';
import { fileSize, readRange } from './log-file';
import { createServer, Server } from 'node:https';
import type { ServerResponse } from 'node:http';
import { parseLogPath, parseLogQuery, tailLines } from './log-query';
import { handleStreamingUpgrade, StreamingTargets } from './streaming';

/** Where the server finds a container's log; implemented by the node agent. */
export interface LogSource {
  logFile(
    namespace: string,
    pod: string,
    container: string,
    previous: boolean,
  ): { file: string; live: () => boolean } | undefined;
}

export interface KubeletServerOptions {
  address: string;
  port: number;
  /** Serving certificate (IP SAN = node address) and key, signed by the cluster CA. */
  cert: string;
  key: string;
  /** Client certificates must chain to this CA (the API server's kubelet client certificate does). */
  ca: string;
  logs: LogSource;
  streaming: StreamingTargets;
}

const FOLLOW_POLL_MS = 200;

/**
 * The part of the kubelet's HTTPS API the API server proxies to: GET /containerLogs (kubectl logs, with
 * follow, tailLines, previous, limitBytes), exec and portForward over SPDY, and /healthz. Requires a client certificate from the cluster
 * CA, as the kubelet does with --client-ca-file and no anonymous auth.
 */
export class KubeletServer {
  private readonly server: Server;
  private readonly followers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: KubeletServerOptions) {
    this.server = createServer(
      { cert: options.cert, key: options.key, ca: options.ca, requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        const url = new URL(req.url ?? '/', 'https://kubelet');
        if (req.method === 'GET' && url.pathname === '/healthz') return void res.end('ok');
        const target = req.method === 'GET' ? parseLogPath(url.pathname) : undefined;
        if (!target) {
          res
            .writeHead(404, { 'Content-Type': 'text/plain' })
            .end(`${req.method} ${url.pathname} is not served by the neonvm node agent\n`);
          return;
        }
        this.serveLogs(target, parseLogQuery(url.searchParams), res);
      },
    );
    // exec, attach and port-forward arrive as SPDY upgrades (kubectl exec / port-forward).
    this.server.on('upgrade', (req, socket, head) =>
      handleStreamingUpgrade(req, socket, head, options.streaming),
    );
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.address, () => resolve());
    });
  }

  stop(): Promise<void> {
    for (const t of this.followers) clearInterval(t);
    this.followers.clear();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private serveLogs(
    target: { namespace: string; pod: string; container: string },
    query: ReturnType<typeof parseLogQuery>,
    res: ServerResponse,
  ): void {
    const source = this.options.logs.logFile(target.namespace, target.pod, target.container, query.previous);
    let content: Buffer;
    try {
      content = source ? readFileSync(source.file) : Buffer.alloc(0);
    } catch {
      content = Buffer.alloc(0);
    }
    if (!source) {
      res
        .writeHead(404, { 'Content-Type': 'text/plain' })
        .end(`container ${target.container} of pod ${target.namespace}/${target.pod} not found\n`);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    let remaining = query.limitBytes ?? Infinity;
    const send = (chunk: Buffer): void => {
      const part = chunk.subarray(0, Math.min(chunk.length, remaining));
      remaining -= part.length;
      if (part.length > 0) res.write(part);
    };
    send(tailLines(content, query.tailLines));
    if (!query.follow || remaining <= 0) return void res.end();

    // follow: poll the file for growth until the container's run ends and everything was sent.
    let offset = content.length;
    const timer = setInterval(() => {
      const live = source.live();
      const size = fileSize(source.file);
      if (size > offset) {
        send(readRange(source.file, offset, size));
        offset = size;
      }
      if (!live || remaining <= 0) {
        clearInterval(timer);
        this.followers.delete(timer);
        res.end();
      }
    }, FOLLOW_POLL_MS);
    this.followers.add(timer);
    res.on('close', () => {
      clearInterval(timer);
      this.followers.delete(timer);
    });
  }
}
