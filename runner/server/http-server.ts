/**
 * The runner HTTP API (contract: runner/api/README.md). Routing, authentication, body parsing and
 * error mapping only; every VM operation is delegated to a VmController.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { parseMilliCpu } from '../../crds';
import {
  bearerMatches,
  RUNNER_PATHS,
  UNAUTHENTICATED_PATHS,
  type ErrorBody,
  type MemorySetRequest,
  type SwapSetRequest,
  type VCpusBody,
} from '../api';
import { formatMilliCpu } from '../../crds';
import { validateMigrationRequest } from '../vm-control/migration';
import type { VmController } from '../vm-control/vm-controller';
import { badRequest, VmError } from '../vm-control/vm-error';
import type { RunnerMetrics } from './metrics';
import type { TokenSource } from './token-source';

const MAX_BODY = 64 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, 'body too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest('body must be JSON');
  }
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  const type = typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json';
  res.writeHead(status, { 'content-type': type, ...headers });
  res.end(text);
}

type Handler = (req: IncomingMessage) => Promise<{ status: number; body?: unknown; type?: string }>;

export interface RunnerApiServerOptions {
  vm: VmController;
  tokens: TokenSource;
  metrics: RunnerMetrics;
  log?: (msg: string, extra?: Record<string, unknown>) => void;
}

/** Builds the request handler (exported separately so tests can drive it without a socket). */
export function runnerApiHandler(
  o: RunnerApiServerOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const { vm, metrics } = o;
  const routes: Record<string, Partial<Record<string, Handler>>> = {
    [RUNNER_PATHS.ready]: {
      GET: async () => {
        const r = vm.readiness();
        metrics.guestReady.set(r.ready ? 1 : 0);
        return r.ready ? { status: 200, body: 'ready\n' } : { status: 503, body: `not ready: ${r.reason}\n` };
      },
    },
    [RUNNER_PATHS.cpuChange]: {
      POST: async (req) => {
        const body = (await readJson(req)) as Partial<VCpusBody> | null;
        if (!body || typeof body !== 'object' || !('VCPUs' in body))
          throw badRequest('body must be {"VCPUs": <MilliCPU>}');
        let milli: number;
        try {
          milli = parseMilliCpu(body.VCPUs);
        } catch (e) {
          throw badRequest(`VCPUs: ${(e as Error).message}`);
        }
        const end = metrics.scalingSeconds.startTimer({ resource: 'cpu' });
        await vm.setCpu(milli);
        end();
        return { status: 200 };
      },
    },
    [RUNNER_PATHS.cpuCurrent]: {
      GET: async () => ({
        status: 200,
        body: { VCPUs: formatMilliCpu(await vm.getCpu()) } satisfies VCpusBody,
      }),
    },
    [RUNNER_PATHS.memory]: {
      GET: async () => ({ status: 200, body: await vm.getMemory() }),
      PUT: async (req) => {
        const body = (await readJson(req)) as Partial<MemorySetRequest> | null;
        if (
          !body ||
          typeof body !== 'object' ||
          typeof body.slots !== 'number' ||
          !Number.isSafeInteger(body.slots)
        ) {
          throw badRequest('body must be {"slots": <integer>}');
        }
        const end = metrics.scalingSeconds.startTimer({ resource: 'memory' });
        const state = await vm.setMemory(body.slots);
        end();
        return { status: 200, body: state };
      },
    },
    [RUNNER_PATHS.swap]: {
      GET: async () => ({ status: 200, body: await vm.getSwap() }),
      PUT: async (req) => {
        const body = (await readJson(req)) as Partial<SwapSetRequest> | null;
        if (
          !body ||
          typeof body !== 'object' ||
          typeof body.sizeBytes !== 'number' ||
          !Number.isSafeInteger(body.sizeBytes) ||
          body.sizeBytes < 0
        )
          throw badRequest('body must be {"sizeBytes": <non-negative integer>}');
        const end = metrics.scalingSeconds.startTimer({ resource: 'swap' });
        const state = await vm.setSwap(body.sizeBytes);
        end();
        return { status: 200, body: state };
      },
    },
    [RUNNER_PATHS.status]: { GET: async () => ({ status: 200, body: await vm.status() }) },
    [RUNNER_PATHS.migration]: {
      GET: async () => ({ status: 200, body: await vm.migration() }),
      POST: async (req) => ({
        status: 202,
        body: await vm.startMigration(validateMigrationRequest(await readJson(req))),
      }),
      DELETE: async () => ({ status: 200, body: await vm.cancelMigration() }),
    },
    [RUNNER_PATHS.qemu]: { GET: async () => ({ status: 200, body: await vm.qemuState() }) },
    [RUNNER_PATHS.metrics]: {
      GET: async () => ({
        status: 200,
        body: await metrics.scrape(),
        type: metrics.registry.contentType,
      }),
    },
  };

  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const method = req.method ?? 'GET';
    const finish = (status: number, body: unknown, headers?: Record<string, string>) => {
      metrics.requests.inc({ method, path: path in routes ? path : 'other', code: String(status) });
      send(res, status, body, headers);
    };
    void (async () => {
      try {
        const route = routes[path];
        if (!route) throw new HttpError(404, `no such endpoint ${path}`);
        // Upstream accepts any method on /ready.
        const handler = route[method] ?? (path === RUNNER_PATHS.ready ? route.GET : undefined);
        if (!handler)
          throw new HttpError(405, `${method} not allowed on ${path}`, {
            allow: Object.keys(route).join(', '),
          });
        if (!UNAUTHENTICATED_PATHS.includes(path)) {
          const token = o.tokens.current();
          if (!token || !bearerMatches(req.headers.authorization, token)) {
            throw new HttpError(
              401,
              token ? 'missing or wrong bearer token' : 'runner has no API token configured',
              { 'www-authenticate': 'Bearer' },
            );
          }
        }
        const out = await handler(req);
        if (out.type) {
          metrics.requests.inc({ method, path, code: String(out.status) });
          res.writeHead(out.status, { 'content-type': out.type });
          res.end(out.body as string);
          return;
        }
        finish(out.status, out.body);
      } catch (e) {
        const status = e instanceof VmError || e instanceof HttpError ? e.status : 500;
        if (status >= 500) o.log?.('API request failed', { method, path, error: (e as Error).message });
        const body: ErrorBody = { error: (e as Error).message };
        finish(status, body, e instanceof HttpError ? e.headers : {});
      }
    })();
  };
}

export function startRunnerApiServer(o: RunnerApiServerOptions, host: string, port: number): Promise<Server> {
  const server = createServer(runnerApiHandler(o));
  // Upstream serves with 5 s read/write timeouts; memory shrink and migration start can take longer.
  server.requestTimeout = 60_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
