/**
 * The debugging surface, on the ports upstream's controller uses: pprof-like profiles on 7777 and the
 * dump-state JSON on 7778. FIX: upstream serves both on 0.0.0.0 without authentication, so anything
 * that reaches the pod can pull heap dumps (Secrets in memory) and stall the controller; here both
 * listen on loopback only (`kubectl port-forward` reaches them; config.ts refuses other addresses).
 *
 * 7777: `GET /debug/pprof/` (index), `/debug/pprof/profile?seconds=N` (CPU, default 30 s as Go's),
 *       `/debug/pprof/heap` (heap snapshot), `/debug/pprof/resources` (live event-loop handles).
 * 7778: `GET /` (upstream's answer: degraded keys per controller), `GET /dump-state` (everything:
 *       failure trackers, work queues, informer caches by key, API rate limiter).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Controller } from '../controller-kit';
import { dumpState, upstreamSnapshot, type StateSources } from './dump-state';
import { MAX_PROFILE_SECONDS, ProfileBusyError, Profiler } from './profiles';

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(body);
}

/** An HTTP server with exact-path GET routes (upstream answers other methods with 405). */
function serve(routes: Record<string, Handler>): Server {
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://debug');
    if (req.method !== 'GET') return text(res, 405, 'request method must be GET');
    const route = routes[url.pathname];
    if (!route) return text(res, 404, `no such path: ${url.pathname}\n`);
    Promise.resolve(route(req, res, url)).catch((err: unknown) => {
      if (!res.headersSent) text(res, 500, String(err));
      else res.destroy();
    });
  });
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

const PPROF_INDEX = `NeonVM operator profiles (Node.js counterparts of Go's pprof)

/debug/pprof/profile?seconds=30   CPU profile (.cpuprofile JSON: Chrome DevTools, VS Code, speedscope)
/debug/pprof/heap                 heap snapshot (.heapsnapshot; pauses the process while written)
/debug/pprof/resources            live event-loop handles by type (JSON)
`;

/** The profile endpoints (upstream's :7777). */
export function pprofServer(profiler = new Profiler()): Server {
  return serve({
    '/debug/pprof/': (_req, res) => text(res, 200, PPROF_INDEX),
    '/debug/pprof/profile': async (req, res, url) => {
      const raw = url.searchParams.get('seconds') ?? '30';
      const seconds = Number(raw);
      if (!Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_PROFILE_SECONDS)
        return text(res, 400, `seconds: '${raw}' must be a number in (0, ${MAX_PROFILE_SECONDS}]\n`);
      // A client that goes away (or a stopping operator closing connections) ends the profile early.
      const abort = new AbortController();
      req.socket.once('close', () => abort.abort());
      try {
        const profile = await profiler.cpuProfile(seconds, abort.signal);
        res
          .writeHead(200, {
            'content-type': 'application/json',
            'content-disposition': 'attachment; filename="neonvm-operator.cpuprofile"',
          })
          .end(profile);
      } catch (err) {
        if (err instanceof ProfileBusyError) return text(res, 409, `${err.message}\n`);
        throw err;
      }
    },
    '/debug/pprof/heap': (_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-disposition': 'attachment; filename="neonvm-operator.heapsnapshot"',
      });
      profiler.heapSnapshot().pipe(res);
    },
    '/debug/pprof/resources': (_req, res) => json(res, profiler.activeResources()),
  });
}

/** The dump-state endpoints (upstream's :7778). */
export function dumpStateServer(sources: StateSources): Server {
  const controllers: readonly Controller[] = sources.controllers;
  return serve({
    '/': (_req, res) => json(res, upstreamSnapshot(controllers)),
    '/dump-state': (_req, res) => json(res, dumpState(sources)),
  });
}

/** A started debug server (port actually bound: tests bind 0). */
export interface DebugListener {
  readonly port: number;
  close(): Promise<void>;
}

export async function startDebugServer(
  server: Server,
  bind: { host: string; port: number },
): Promise<DebugListener> {
  const port = await listen(server, bind.host, bind.port);
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
