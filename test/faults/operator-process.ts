/**
 * The operator as its own process, run the way the install bundle runs it (`operator/main` with flags,
 * leader election on), and kept running the way a Deployment does: when it exits, it is started again.
 * The fault tests SIGKILL it by the PID they started — never by name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { registerEmergencyCleanup } from '../../host';
import { programInvocation } from '../../local-stack';

export interface OperatorProcessOptions {
  /** Lease identity (the Deployment's pod name). */
  readonly identity: string;
  readonly kubeconfig: string;
  readonly runnerImage: string;
  readonly namespace: string;
  /** Webhook port; -1 disables the webhooks (a standby that must not take the configurations over). */
  readonly webhookPort: number;
  readonly lease: { readonly durationMs: number; readonly renewDeadlineMs: number; readonly retryMs: number };
  readonly logFile: string;
  /** Start again after an exit (a Deployment's restart), after this delay; undefined: do not. */
  readonly restartAfterMs?: number;
  /** pino level (default info). */
  readonly logLevel?: string;
  /** Serve the health probes here (`host:port`), as a Deployment's pod does; default: none. */
  readonly probeBind?: string;
}

export interface OperatorExit {
  readonly pid: number;
  readonly at: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class OperatorProcess {
  private child: ChildProcess | undefined;
  private stopped = false;
  readonly exits: OperatorExit[] = [];
  private exitWaiters: Array<(e: OperatorExit) => void> = [];
  starts = 0;

  constructor(private readonly o: OperatorProcessOptions) {}

  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  start(): void {
    const [node, ...pre] = programInvocation('operator');
    const args = [
      ...pre,
      '--kubeconfig', this.o.kubeconfig,
      '--namespace', this.o.namespace,
      '--runner-image', this.o.runnerImage,
      '--no-device-plugin-resources',
      '--disable-runner-cgroup',
      '--webhook-port', String(this.o.webhookPort),
      ...(this.o.webhookPort > 0 ? ['--webhook-url-host', '127.0.0.1'] : []),
      '--leader-elect',
      '--leader-election-lease-duration', `${this.o.lease.durationMs}ms`,
      '--leader-election-renew-deadline', `${this.o.lease.renewDeadlineMs}ms`,
      '--leader-election-retry-period', `${this.o.lease.retryMs}ms`,
      '--concurrency-limit', '4',
      '--metrics-bind-address', '0',
      '--health-probe-bind-address', this.o.probeBind ?? '0',
      '--pprof-bind-address', '0',
      '--dump-state-bind-address', '0',
      '--log-level', this.o.logLevel ?? 'info',
    ]; // prettier-ignore
    appendFileSync(this.o.logFile, `--- start ${++this.starts} at ${new Date().toISOString()}\n`);
    const child = spawn(node, args, {
      env: { ...process.env, POD_NAME: this.o.identity },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const write = (chunk: Buffer) => appendFileSync(this.o.logFile, chunk);
    child.stdout?.on('data', write);
    child.stderr?.on('data', write);
    this.child = child;
    const pid = child.pid ?? -1;
    const unregister = registerEmergencyCleanup(`kill operator ${this.o.identity} (${pid})`, () => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    });
    child.once('exit', (code, signal) => {
      unregister();
      const e: OperatorExit = { pid, at: Date.now(), code, signal };
      this.exits.push(e);
      // pino writes asynchronously: the last lines before an exit can be lost, so say how it ended.
      appendFileSync(
        this.o.logFile,
        `--- exit of pid ${pid}: code ${code} signal ${signal} at ${new Date(e.at).toISOString()}\n`,
      );
      for (const w of this.exitWaiters.splice(0)) w(e);
      if (!this.stopped && this.o.restartAfterMs !== undefined)
        setTimeout(() => {
          if (!this.stopped) this.start();
        }, this.o.restartAfterMs);
    });
  }

  /** Signals the running process (the one this object started). */
  signal(signal: NodeJS.Signals): number {
    const pid = this.pid;
    if (pid === undefined) throw new Error(`operator ${this.o.identity} is not running`);
    process.kill(pid, signal);
    return pid;
  }

  /** Resolves at the next exit of the process. */
  nextExit(): Promise<OperatorExit> {
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  /** Lines of its log (pino JSON and anything else it printed). */
  log(): string {
    try {
      return readFileSync(this.o.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** Stops for good (SIGTERM, then SIGKILL): graceful shutdown releases the lease. */
  async stop(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    if (!child || this.pid === undefined) return;
    const exited = this.nextExit();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
