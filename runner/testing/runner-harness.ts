/**
 * Starts real runner processes for integration tests and benchmarks, and guarantees teardown:
 * every runner (and the QEMU it started, found through runner.json) is killed in stopAll(), and
 * temp dirs are removed, even when a test failed half-way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { encodeGzipBase64, type VirtualMachineSpec, type VirtualMachineStatus } from '../../crds';
import { pollUntil } from '../../host';
import { RunnerClient, type MigrationInfoBody } from '../api';
import { ensureGuestArtifacts, type GuestArtifacts } from '../../guest';
import type { RunnerInfo } from '../lifecycle/access-files';

export const TEST_TOKEN = 'test-token-0123456789';
const MIGRATION_FINAL_STATES = ['completed', 'failed', 'cancelled'];
const MAIN = resolve(__dirname, '..', 'main.ts');
/** NEONVM_RUNNER_MAIN=lib/runner/main.js runs the compiled runner (as in a pod) instead of tsx. */
function runnerCommand(): string[] {
  const compiled = process.env.NEONVM_RUNNER_MAIN;
  return compiled ? [resolve(compiled)] : ['--require', require.resolve('tsx/cjs'), MAIN];
}

export interface StartOptions {
  name: string;
  ip: string;
  spec: VirtualMachineSpec | Record<string, unknown>;
  status?: VirtualMachineStatus;
  receiveMigration?: boolean;
  extraFlags?: string[];
  /** Files to place under the pod root before start (pod path → content). */
  podFiles?: Record<string, string>;
  /** Use the built-in guest (default) or these flags instead. */
  guestFlags?: boolean;
  /** Runs the runner under this prefix, e.g. `ip netns exec <ns>` for a pod network namespace. */
  execPrefix?: string[];
  /**
   * Let the runner put QEMU in a CPU cgroup limited to cpus.use. Off by default (as on the local
   * cluster): tests and benchmarks compare against an unlimited raw QEMU.
   */
  cpuCgroup?: boolean;
  /** More environment for the runner, e.g. a PATH that finds another QEMU first. */
  env?: Record<string, string>;
}

export interface TestRunner {
  name: string;
  root: string;
  child: ChildProcess;
  client: RunnerClient;
  output: () => string;
  exited: Promise<number | null>;
  info(): RunnerInfo;
}

export class RunnerHarness {
  private readonly runners: TestRunner[] = [];
  private readonly dirs: string[] = [];
  guest!: GuestArtifacts;
  sshKey?: { privateKey: string; publicKey: string };

  async init(): Promise<void> {
    this.guest = await ensureGuestArtifacts({ progress: () => undefined });
  }

  tempDir(prefix: string): string {
    const d = mkdtempSync(join(tmpdir(), prefix));
    this.dirs.push(d);
    return d;
  }

  /** One ed25519 key pair shared by the test VMs (ssh-keygen is in openssh-client). */
  async keyPair(): Promise<{ privateKey: string; publicKey: string }> {
    if (this.sshKey) return this.sshKey;
    const d = this.tempDir('neonvm-key-');
    await new Promise<void>((res, rej) =>
      spawn('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(d, 'id')], { stdio: 'ignore' }).on(
        'exit',
        (c) => (c === 0 ? res() : rej(new Error('ssh-keygen failed'))),
      ),
    );
    this.sshKey = {
      privateKey: readFileSync(join(d, 'id'), 'utf8'),
      publicKey: readFileSync(join(d, 'id.pub'), 'utf8'),
    };
    return this.sshKey;
  }

  start(o: StartOptions): TestRunner {
    const root = this.tempDir(`neonvm-${o.name}-`);
    for (const [p, content] of Object.entries(o.podFiles ?? {})) {
      const full = join(root, p);
      mkdirSync(join(full, '..'), { recursive: true });
      writeFileSync(full, content, { mode: 0o600 });
    }
    mkdirSync(join(root, 'vm/secrets'), { recursive: true });
    // The guest files as an init container would provide them (flags name pod paths).
    mkdirSync(join(root, 'vm/kernel'), { recursive: true });
    symlinkSync(this.guest.kernel, join(root, 'vm/kernel/vmlinux'));
    symlinkSync(this.guest.initramfs, join(root, 'vm/kernel/initramfs.cpio.gz'));
    symlinkSync(this.guest.rootDisk, join(root, 'vm/kernel/rootdisk-base.qcow2'));
    writeFileSync(join(root, 'vm/secrets/runner-token'), TEST_TOKEN + '\n');
    const argv = [
      ...runnerCommand(),
      `-vmspec=${encodeGzipBase64(o.spec)}`,
      ...(o.status ? [`-vmstatus=${encodeGzipBase64(o.status)}`] : []),
      '-memhp-auto-movable-ratio=301',
      // tmp dirs may sit on tmpfs, which has no O_DIRECT (cache=none)
      '-qemu-disk-cache-settings=cache=writeback',
      '-kernelpath=/vm/kernel/vmlinux',
      '-initrdpath=/vm/kernel/initramfs.cpio.gz',
      '-rootdisk-base=/vm/kernel/rootdisk-base.qcow2',
      `-pod-ip=${o.ip}`,
      // unix sockets have a 108-byte path limit: keep the state dir short
      `-state-dir=${join(root, 'r')}`,
      ...(o.cpuCgroup ? [] : ['-skip-cgroup-management']),
      ...(o.extraFlags ?? []),
    ];
    const [cmd, ...prefixArgs] = [...(o.execPrefix ?? []), process.execPath];
    const child = spawn(cmd, [...prefixArgs, ...argv], {
      env: {
        ...process.env,
        K8S_POD_NAME: o.name,
        NEONVM_POD_ROOT: root,
        ...(o.receiveMigration ? { RECEIVE_MIGRATION: 'true' } : {}),
        ...(o.env ?? {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (b: Buffer) => (out = (out + b.toString('latin1')).slice(-200_000)));
    child.stderr?.on('data', (b: Buffer) => (out = (out + b.toString('latin1')).slice(-200_000)));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const runner: TestRunner = {
      name: o.name,
      root,
      child,
      client: new RunnerClient({ baseUrl: `http://${o.ip}:25183`, token: TEST_TOKEN, timeoutMs: 60_000 }),
      output: () => out,
      exited,
      info: () => JSON.parse(readFileSync(join(root, 'r', 'runner.json'), 'utf8')) as RunnerInfo,
    };
    this.runners.push(runner);
    return runner;
  }

  async waitReady(r: TestRunner, timeoutMs = 120_000): Promise<number> {
    const t0 = Date.now();
    while (Date.now() - t0 < timeoutMs) {
      if (r.child.exitCode !== null)
        throw new Error(`${r.name} exited (${r.child.exitCode}):\n${r.output().slice(-3000)}`);
      if (await r.client.ready().catch(() => false)) return Date.now() - t0;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`${r.name} not ready after ${timeoutMs} ms:\n${r.output().slice(-3000)}`);
  }

  /** Waits until a migration target's QEMU listens for the incoming stream (`inmigrate`). */
  async waitIncoming(target: TestRunner, timeoutMs = 60_000): Promise<void> {
    await pollUntil(
      async () => ((await target.client.status()).qemuStatus === 'inmigrate' ? true : undefined),
      { timeoutMs, intervalMs: 50, description: `${target.name} to wait for the incoming migration` },
    );
  }

  /** Polls the source's migration until it is completed, failed or cancelled; `onStatus` sees the rest. */
  async migrationOutcome(
    source: TestRunner,
    o: { onStatus?: (status: string) => void; intervalMs?: number; timeoutMs?: number } = {},
  ): Promise<MigrationInfoBody> {
    return pollUntil(
      async () => {
        const info = await source.client.migration();
        if (MIGRATION_FINAL_STATES.includes(info.status ?? '')) return info;
        o.onStatus?.(info.status ?? '');
        return undefined;
      },
      {
        timeoutMs: o.timeoutMs ?? 120_000,
        intervalMs: o.intervalMs ?? 50,
        description: `the migration from ${source.name} to finish`,
      },
    );
  }

  /** Kills every runner and its QEMU; removes temp dirs. Safe to call more than once. */
  async stopAll(): Promise<void> {
    for (const r of this.runners) {
      let qemuPid: number | undefined;
      try {
        qemuPid = r.info().qemuPid;
      } catch {
        // never got that far
      }
      if (r.child.exitCode === null && r.child.signalCode === null) {
        r.child.kill('SIGKILL');
        await r.exited;
      }
      if (qemuPid && existsSync(`/proc/${qemuPid}`)) {
        try {
          process.kill(qemuPid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
    }
    this.runners.length = 0;
    for (const d of this.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}

/** Runs a command in the guest over ssh through the runner's ssh_config. */
export function sshGuest(
  r: TestRunner,
  command: string,
  timeoutMs = 30_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(
      'ssh',
      [
        '-F',
        join(r.root, 'r', 'ssh_config'),
        '-o',
        'ConnectTimeout=10',
        '-o',
        'BatchMode=yes',
        'guest-vm',
        command,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}
