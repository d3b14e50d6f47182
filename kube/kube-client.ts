/**
 * A small JSON REST client for the Kubernetes API on node:http(s), and watches on it: what the operator
 * needs of @kubernetes/client-node, without loading it (see kube-connection.ts for why). Responses are
 * plain JSON: timestamps stay RFC 3339 strings (client-node's generated APIs turn them into Dates; every
 * reader of a timestamp here accepts both, as watch events were always plain JSON).
 *
 * One keep-alive pool carries every request, bounded ({@link DEFAULT_MAX_SOCKETS}): each TLS connection
 * holds native buffers, and a burst of concurrent requests with no limit opened dozens whose memory the
 * process kept after they closed. Watches use connections of their own (each holds one for minutes).
 * Responses are not requested gzip'd: the operator's are small, and zlib's buffers cost memory too.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { KubeConnection } from './kube-connection';

export interface KubeClientOptions {
  /** Awaited before every request and watch (e.g. a client-side rate limit's token). */
  readonly beforeRequest?: () => Promise<void>;
  /** Called as every request is sent (request counters). */
  readonly onRequest?: (verb: string, url: string) => void;
  /** Called when the response's headers arrive (or the request failed), with the seconds it took. */
  readonly onResponse?: (verb: string, url: string, seconds: number) => void;
  /**
   * Aborts a request whose connection stays silent this long (node's socket timeout: no byte sent or
   * received; default {@link DEFAULT_REQUEST_TIMEOUT_MS}; 0: never). The operator's answers are small,
   * so a silent minute is a dead peer, not a slow answer.
   */
  readonly requestTimeoutMs?: number;
  /** Connections of the request pool (default {@link DEFAULT_MAX_SOCKETS}). */
  readonly maxSockets?: number;
}

/**
 * A request on a connection whose peer vanished without a FIN or RST (a partition, a frozen link, a
 * node that lost power) otherwise waits forever: TCP keepalive only notices after minutes, and a
 * peer that still ACKs never. A reconcile awaiting it would hold its key, and that object would never
 * be reconciled again. client-go bounds the same with HTTP/2 health checks; a plain timeout does here.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

/**
 * Connections of the request pool. The operator's controllers run 8 workers each and await at most
 * one request at a time per worker; requests past the limit wait for a free connection in order.
 */
export const DEFAULT_MAX_SOCKETS = 16;

/** TCP keepalive delay of watch connections (client-node's). */
const WATCH_KEEPALIVE_MS = 30_000;

/** A non-2xx answer of the API server (the shape `statusCode`/`apiErrorMessage` in errors.ts read). */
export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    /** The response body: a `Status` object when the server sent JSON, else its text. */
    readonly body: unknown,
    verb: string,
    path: string,
  ) {
    const status = body as { reason?: unknown; message?: unknown } | undefined;
    const detail =
      status && typeof status === 'object' && typeof status.message === 'string'
        ? `${typeof status.reason === 'string' ? `${status.reason}: ` : ''}${status.message}`
        : typeof body === 'string'
          ? body.slice(0, 200)
          : '';
    super(`${verb} ${path}: HTTP ${code}${detail ? ` ${detail}` : ''}`);
    this.name = 'KubeApiError';
  }
}

export type QueryValue = string | number | boolean | undefined;

export interface RequestOptions {
  readonly query?: Readonly<Record<string, QueryValue>>;
  /** JSON-serialized (Dates as ISO strings). */
  readonly body?: unknown;
  /** Content-Type of the body (default `application/json`; patches name their kind). */
  readonly contentType?: string;
}

/** One watch event: `type` is ADDED, MODIFIED, DELETED, BOOKMARK or ERROR. */
export type WatchCallback = (type: string, object: unknown) => void;

export class KubeClient {
  private agents: Promise<{ pool: HttpAgent; watch: HttpAgent }> | undefined;
  private readonly send: typeof httpRequest;
  private readonly timeoutMs: number;

  constructor(
    readonly connection: KubeConnection,
    private readonly options: KubeClientOptions = {},
  ) {
    this.timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.send = connection.server.startsWith('http:') ? httpRequest : (httpsRequest as typeof httpRequest);
  }

  /** The request pool and the watches' agent, made on first use from the connection's TLS material. */
  private agentsOnce(): Promise<{ pool: HttpAgent; watch: HttpAgent }> {
    return (this.agents ??= this.makeAgents());
  }

  private async makeAgents(): Promise<{ pool: HttpAgent; watch: HttpAgent }> {
    const maxSockets = this.options.maxSockets ?? DEFAULT_MAX_SOCKETS;
    const pooled = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets };
    if (this.connection.server.startsWith('http:')) {
      return { pool: new HttpAgent(pooled), watch: new HttpAgent() };
    }
    const tls = await this.connection.tls();
    // One TLS context for every connection: given as ca/cert/key, each connection would parse the
    // PEM again into a context of its own.
    const secureContext: SecureContext = createSecureContext({ ca: tls.ca, cert: tls.cert, key: tls.key });
    const agentTls = {
      secureContext,
      ...(tls.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: tls.rejectUnauthorized }),
      ...(tls.servername ? { servername: tls.servername } : {}),
    };
    return { pool: new HttpsAgent({ ...agentTls, ...pooled }), watch: new HttpsAgent(agentTls) };
  }

  /** Sends one request and returns the parsed JSON answer; a non-2xx answer throws {@link KubeApiError}. */
  async request<T>(verb: string, path: string, options: RequestOptions = {}): Promise<T> {
    await this.options.beforeRequest?.();
    const url = this.url(path, options.query);
    this.options.onRequest?.(verb, url);
    const started = performance.now();
    let responded = false;
    const respond = () => {
      if (responded) return;
      responded = true;
      this.options.onResponse?.(verb, url, (performance.now() - started) / 1000);
    };
    const body = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const { pool } = await this.agentsOnce();
    const headers: Record<string, string> = {
      ...(await this.connection.headers()),
      Accept: 'application/json',
      ...(body ? { 'Content-Type': options.contentType ?? 'application/json' } : {}),
    };
    try {
      const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = this.send(url, { method: verb, agent: pool, headers }, (res) => {
          respond();
          res.setEncoding('utf8');
          let text = '';
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          res.on('error', reject);
        });
        if (this.timeoutMs > 0) {
          req.setTimeout(this.timeoutMs, () =>
            req.destroy(new Error(`${verb} ${path}: aborted after ${this.timeoutMs} ms without an answer`)),
          );
        }
        req.on('error', reject);
        req.end(body);
      });
      const parsed = parseJson(text);
      if (status < 200 || status >= 300) throw new KubeApiError(status, parsed ?? text, verb, path);
      return parsed as T;
    } finally {
      respond();
    }
  }

  /**
   * Watches `path` (`?watch=true` and `query`): every event to `callback`, then `done` once — with
   * undefined when the server ended the stream, the error otherwise (a non-200 answer is a
   * {@link KubeApiError}). The returned controller ends the watch (`done` gets an AbortError).
   */
  async watch(
    path: string,
    query: Readonly<Record<string, QueryValue>>,
    callback: WatchCallback,
    done: (err?: unknown) => void,
  ): Promise<AbortController> {
    await this.options.beforeRequest?.();
    const controller = new AbortController();
    const { watch: agent } = await this.agentsOnce();
    const headers = { ...(await this.connection.headers()), Accept: 'application/json' };
    const url = this.url(path, { ...query, watch: true });
    let finished = false;
    const finish = (err?: unknown) => {
      if (finished) return;
      finished = true;
      done(err);
    };
    const req = this.send(
      url,
      { method: 'GET', agent, headers, signal: controller.signal },
      (res: IncomingMessage) => {
        res.setEncoding('utf8');
        if (res.statusCode !== 200) {
          let text = '';
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () =>
            finish(new KubeApiError(res.statusCode ?? 0, parseJson(text) ?? text, 'WATCH', path)),
          );
          res.on('error', finish);
          return;
        }
        let pending = '';
        res.on('data', (chunk: string) => {
          pending += chunk;
          let newline: number;
          while ((newline = pending.indexOf('\n')) >= 0) {
            const line = pending.slice(0, newline).trim();
            pending = pending.slice(newline + 1);
            if (!line) continue;
            const event = parseJson(line) as { type?: unknown; object?: unknown } | undefined;
            if (!event || typeof event.type !== 'string') {
              req.destroy(new Error(`WATCH ${path}: not a watch event: ${line.slice(0, 200)}`));
              return;
            }
            callback(event.type, event.object);
          }
        });
        res.on('end', () => finish());
        res.on('error', finish);
        res.on('close', () => finish(controller.signal.aborted ? abortError() : undefined));
      },
    );
    req.on('error', (err) => finish(controller.signal.aborted ? abortError() : err));
    // As client-node's Watch: TCP keepalive notices a peer that vanished under an idle watch.
    req.on('socket', (socket) => socket.setKeepAlive(true, WATCH_KEEPALIVE_MS));
    req.end();
    return controller;
  }

  /** Closes idle pooled connections (tests; a stopping process). */
  async close(): Promise<void> {
    const agents = await this.agents?.catch(() => undefined);
    agents?.pool.destroy();
    agents?.watch.destroy();
  }

  private url(path: string, query: Readonly<Record<string, QueryValue>> | undefined): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v));
    const qs = params.toString();
    return `${this.connection.server}${path}${qs ? `?${qs}` : ''}`;
  }
}

function abortError(): Error {
  const err = new Error('The watch was aborted');
  err.name = 'AbortError';
  return err;
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
