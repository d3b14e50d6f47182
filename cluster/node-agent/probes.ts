import { type Clock, type TimerHandle, killGroup } from '../../host';
import type { V1Container, V1Probe } from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { initialProbeCounter, ProbeCounter, recordProbe } from './probe-threshold';

/** Where and how a probe reaches its container. */
export interface ProbeTarget {
  podIP: string;
  container: V1Container;
  /** Runs a program in the pod's network namespace (empty for host network). */
  execPrefix: readonly string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface ProbeOutcome {
  success: boolean;
  message?: string;
}

/** A port given by number or by the name of one of the container's ports. */
export function resolvePort(port: number | string, container: V1Container): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

/** Executes one probe attempt for real (HTTP request, TCP connect or command in the pod's namespace). */
export function runProbeOnce(probe: V1Probe, target: ProbeTarget): Promise<ProbeOutcome> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.httpGet) {
    const g = probe.httpGet;
    const port = resolvePort(g.port, target.container);
    if (port === undefined) return Promise.resolve({ success: false, message: `unknown port ${g.port}` });
    const request = g.scheme === 'HTTPS' ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      const headers = Object.fromEntries((g.httpHeaders ?? []).map((h) => [h.name, h.value]));
      const req = request(
        {
          host: g.host || target.podIP,
          port,
          path: g.path ?? '/',
          method: 'GET',
          headers,
          timeout: timeoutMs,
          rejectUnauthorized: false,
        },
        (res) => {
          res.resume();
          const code = res.statusCode ?? 0;
          resolve({
            success: code >= 200 && code < 400,
            message: `HTTP probe failed with statuscode: ${code}`,
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (err) => resolve({ success: false, message: `Get ${g.path ?? '/'}: ${err.message}` }));
      req.end();
    });
  }
  if (probe.tcpSocket) {
    const port = resolvePort(probe.tcpSocket.port, target.container);
    if (port === undefined)
      return Promise.resolve({ success: false, message: `unknown port ${probe.tcpSocket.port}` });
    return new Promise((resolve) => {
      const socket = connect({ host: probe.tcpSocket!.host || target.podIP, port, timeout: timeoutMs });
      socket.once('connect', () => {
        socket.destroy();
        resolve({ success: true });
      });
      socket.once('timeout', () => socket.destroy(new Error('timeout')));
      socket.once('error', (err) => resolve({ success: false, message: err.message }));
    });
  }
  if (probe.exec?.command?.length) {
    const argv = [...target.execPrefix, ...probe.exec.command];
    return new Promise((resolve) => {
      const child = spawn(argv[0], argv.slice(1), {
        env: target.env,
        cwd: target.cwd,
        detached: true,
        stdio: 'ignore',
      });
      const timer = setTimeout(() => child.pid && killGroup(child.pid, 'SIGKILL'), timeoutMs);
      child.once('error', (err) => {
        clearTimeout(timer);
        resolve({ success: false, message: err.message });
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        resolve({
          success: code === 0,
          message: code === 0 ? undefined : `command exited with ${code ?? signal}`,
        });
      });
    });
  }
  return Promise.resolve({ success: false, message: 'probe handler not supported by the local node agent' });
}

/**
 * Runs a probe periodically (initialDelaySeconds, periodSeconds) and reports the thresholded result
 * whenever it changes. Stopped when the container stops.
 */
export class ProbeLoop {
  private counter: ProbeCounter;
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(
    private readonly probe: V1Probe,
    private readonly target: ProbeTarget,
    initialResult: boolean,
    private readonly clock: Clock,
    private readonly onChange: (result: boolean, outcome: ProbeOutcome) => void,
  ) {
    this.counter = initialProbeCounter(initialResult);
  }

  start(): void {
    this.schedule((this.probe.initialDelaySeconds ?? 0) * 1000);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimer(delayMs, () => void this.tick());
  }

  private async tick(): Promise<void> {
    const outcome = await runProbeOnce(this.probe, this.target);
    if (this.stopped) return;
    const before = this.counter.result;
    this.counter = recordProbe(this.counter, outcome.success, this.probe);
    if (this.counter.result !== before) this.onChange(this.counter.result, outcome);
    this.schedule((this.probe.periodSeconds ?? 10) * 1000);
  }
}
