import { spawn } from 'node:child_process';
import { fileSize, readRange } from '../log-file';
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import type { Duplex, Writable } from 'node:stream';
import { connection, SpdyConnection, SpdyStream } from 'spdy-transport';
import { hangUpTree } from './process-tree';
import { parseResizeMessages, ptyArgv, PtyResizer, TerminalSize } from './pty';
import {
  EXEC_PROTOCOLS,
  ExecRequest,
  expectedStreams,
  exitStatus,
  negotiateProtocol,
  parseExecQuery,
  parseStreamingPath,
  PORT_FORWARD_PROTOCOL,
} from './stream-protocol';

/** How to run a command the way a container's process runs (its network namespace, env, directory). */
export interface ExecContext {
  execPrefix: readonly string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** What the node agent knows about its pods, for exec and port-forward. */
export interface StreamingTargets {
  execContext(namespace: string, pod: string, container: string): ExecContext | undefined;
  attachTarget(namespace: string, pod: string, container: string): AttachTarget | undefined;
  podIP(namespace: string, pod: string): string | undefined;
}

/** A running container as `kubectl attach` sees it. */
export interface AttachTarget {
  /** The container's stdin (only when its spec says `stdin: true`). */
  stdin: Writable | undefined;
  /** Where its stdout and stderr go. */
  logFile: string;
  /** Resolves with the exit code of the current run. */
  exited: Promise<number>;
}

const noop = (): void => undefined;

function reject(socket: Duplex, status: number, message: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${message}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${message}\n`,
  );
}

/**
 * Completes the SPDY/3.1 upgrade ourselves (spdy-transport only speaks SPDY once the 101 is sent) and
 * opens a server-side connection on the raw socket.
 */
function acceptSpdy(socket: Duplex, head: Buffer, protocol: string): SpdyConnection {
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`,
  );
  if (head.length > 0) socket.unshift(head);
  const conn = connection.create(socket, { protocol: 'spdy', isServer: true });
  // Go's SPDY client (the API server) sends SYN_STREAMs without `:method`/`:path`, which spdy-transport
  // insists on for incoming requests; supply them before its check runs.
  const parser = conn._spdyState.parser;
  const parseKVs = parser.parseKVs.bind(parser);
  parser.parseKVs = (buffer, callback) =>
    parseKVs(buffer, (err, headers) =>
      callback(err, err || !headers ? headers : { ':method': 'POST', ':path': '/', ...headers }),
    );
  // Resets and "new stream after GOAWAY" are routine when a client hangs up; nothing to report.
  conn.on('error', noop);
  socket.on('error', noop);
  return conn;
}

/**
 * Serves the kubelet's streaming endpoints over SPDY, as the API server calls them for `kubectl exec`
 * `kubectl attach` and `kubectl port-forward`: POST /attach/<ns>/<pod>/<container>, POST /exec/<ns>/<pod>/<container>?command=... and POST /portForward/<ns>/<pod>.
 * With `-t` the command runs on a pseudo-terminal (see pty.ts) that follows the client's resizes.
 */
export function handleStreamingUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  targets: StreamingTargets,
): void {
  const url = new URL(req.url ?? '/', 'https://kubelet');
  const target = parseStreamingPath(url.pathname);
  if (!target || req.method !== 'POST') return reject(socket, 404, 'not found');
  if (target.kind === 'portForward') {
    const podIP = targets.podIP(target.namespace, target.pod);
    const protocol = negotiateProtocol(req.headers['x-stream-protocol-version'], [PORT_FORWARD_PROTOCOL]);
    if (!podIP || !protocol)
      return reject(socket, podIP ? 400 : 404, podIP ? 'unsupported protocol' : 'pod not found');
    return portForward(acceptSpdy(socket, head, protocol), podIP);
  }
  if (target.kind === 'attach') {
    const attachTarget = targets.attachTarget(target.namespace, target.pod, target.container);
    const protocol = negotiateProtocol(req.headers['x-stream-protocol-version'], EXEC_PROTOCOLS);
    if (!attachTarget) return reject(socket, 404, `container ${target.container} is not running`);
    if (!protocol) return reject(socket, 400, 'unsupported protocol');
    const request = parseExecQuery(url.searchParams);
    return attach(socket, acceptSpdy(socket, head, protocol), protocol, attachTarget, request);
  }
  const context = targets.execContext(target.namespace, target.pod, target.container);
  const protocol = negotiateProtocol(req.headers['x-stream-protocol-version'], EXEC_PROTOCOLS);
  if (!context) return reject(socket, 404, `container ${target.container} is not running`);
  if (!protocol) return reject(socket, 400, 'unsupported protocol');
  const request = parseExecQuery(url.searchParams);
  if (request.command.length === 0) return reject(socket, 400, 'no command');
  exec(socket, acceptSpdy(socket, head, protocol), protocol, context, request);
}

function exec(
  socket: Duplex,
  conn: SpdyConnection,
  protocol: string,
  context: ExecContext,
  request: ExecRequest,
): void {
  whenStreamsOpen(conn, expectedStreams(request), (streams) => {
    const command = request.tty ? ptyArgv(request.command) : request.command;
    const argv = [...context.execPrefix, ...command];
    // Own process group, so a client that hangs up takes down everything the command started.
    const child = spawn(argv[0], argv.slice(1), {
      env: request.tty ? { TERM: 'xterm', ...context.env } : context.env,
      cwd: context.cwd,
      stdio: 'pipe',
      detached: true,
    });
    const stdout = streams.get('stdout');
    const stderr = streams.get('stderr') ?? (request.tty ? stdout : undefined);
    const stdin = streams.get('stdin');
    child.stdout.on('data', (chunk: Buffer) => stdout?.write(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr?.write(chunk));
    child.stdin.on('error', noop);
    if (stdin) stdin.pipe(child.stdin);
    else child.stdin.end();
    const resizer = request.tty && child.pid !== undefined ? new PtyResizer(child.pid) : undefined;
    if (resizer) onResize(streams.get('resize'), (size) => resizer.resize(size));
    let done = false;
    const hangUp = (): void => {
      if (!done && child.pid !== undefined) hangUpTree(child.pid);
    };
    socket.once('close', hangUp);
    const finish = (code: number, failure?: string): void => {
      if (done) return;
      done = true;
      resizer?.close();
      socket.off('close', hangUp);
      endSession(conn, streams, protocol, code, failure);
    };
    child.on('error', (err) => finish(126, `exec: ${err.message}`));
    child.on('close', (code, signal) => finish(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15)));
  });
}

/** Calls `start` once the client has opened every stream it announced (each gets its SYN_REPLY). */
function whenStreamsOpen(
  conn: SpdyConnection,
  expected: readonly string[],
  start: (streams: Map<string, SpdyStream>) => void,
): void {
  const streams = new Map<string, SpdyStream>();
  let started = false;
  conn.on('stream', (stream) => {
    stream.on('error', noop);
    stream.respond(200, {});
    streams.set(stream.headers.streamtype, stream);
    if (!started && expected.every((t) => streams.has(t))) {
      started = true;
      start(streams);
    }
  });
}

function onResize(stream: SpdyStream | undefined, apply: (size: TerminalSize) => void): void {
  let buffered = '';
  stream?.on('data', (chunk: Buffer) => {
    const { sizes, rest } = parseResizeMessages(buffered + chunk.toString());
    buffered = rest;
    for (const size of sizes) apply(size);
  });
}

/** Ends the output streams, reports the exit status on the error stream, then closes the connection. */
function endSession(
  conn: SpdyConnection,
  streams: Map<string, SpdyStream>,
  protocol: string,
  code: number,
  failure?: string,
): void {
  const stdout = streams.get('stdout');
  const stderr = streams.get('stderr');
  stdout?.end();
  if (stderr !== stdout) stderr?.end();
  const error = streams.get('error');
  if (protocol === EXEC_PROTOCOLS[0])
    error?.write(
      failure ? JSON.stringify({ metadata: {}, status: 'Failure', message: failure }) : exitStatus(code),
    );
  else if (failure || code !== 0)
    error?.write(failure ?? `command terminated with non-zero exit code: ${code}`);
  error?.end();
  // Let the frames flush before closing the connection.
  setTimeout(() => conn.end(), 50).unref();
}

const ATTACH_POLL_MS = 100;

/**
 * kubectl attach: the container's output is its log file (stdout and stderr go to a file so a chatty
 * process never blocks), so attached clients follow the file from its current end; stdin, if the
 * container asked for it, is the pipe the agent kept open. The session ends when the container exits
 * (with its status) or when the client leaves (the container keeps running).
 */
function attach(
  socket: Duplex,
  conn: SpdyConnection,
  protocol: string,
  target: AttachTarget,
  request: ExecRequest,
): void {
  whenStreamsOpen(conn, expectedStreams(request), (streams) => {
    const stdout = streams.get('stdout');
    const stdin = streams.get('stdin');
    let offset = fileSize(target.logFile);
    const pump = (): void => {
      const size = fileSize(target.logFile);
      if (size > offset) {
        stdout?.write(readRange(target.logFile, offset, size));
        offset = size;
      }
    };
    const timer = setInterval(pump, ATTACH_POLL_MS);
    const forward = (chunk: Buffer): void => void target.stdin?.write(chunk);
    if (target.stdin) stdin?.on('data', forward);
    let done = false;
    const leave = (): void => {
      done = true;
      clearInterval(timer);
      stdin?.off('data', forward);
    };
    socket.once('close', leave);
    void target.exited.then((code) => {
      if (done) return;
      pump();
      leave();
      endSession(conn, streams, protocol, code);
    });
  });
}

function portForward(conn: SpdyConnection, podIP: string): void {
  const errors = new Map<string, SpdyStream>();
  conn.on('stream', (stream) => {
    stream.on('error', noop);
    stream.respond(200, {});
    const { streamtype, port, requestid } = stream.headers;
    if (streamtype === 'error') {
      errors.set(requestid, stream);
      return;
    }
    // The data stream is a byte pipe to the pod's port.
    const socket = connect({ host: podIP, port: Number(port) });
    socket.on('error', (err) => {
      errors.get(requestid)?.end(`error forwarding port ${port} to pod ${podIP}: ${err.message}`);
      stream.end();
    });
    stream.pipe(socket);
    socket.pipe(stream);
  });
}
