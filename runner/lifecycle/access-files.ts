/**
 * Files that let people and tools reach a running VM from the runner's environment:
 * `runner.json` (API address, QMP sockets, console pty: read by `neonvm console/ssh`), an ssh_config
 * with a `guest-vm` host, and — in tap mode, where the guest has its upstream address — the
 * `169.254.254.254 guest-vm` line in the pod's /etc/hosts.
 */
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { GUEST_HOSTNAME, GUEST_IP } from '../plan/network-plan';
import type { PodPaths } from '../plan/pod-paths';

/** Content of runner.json. */
export interface RunnerInfo {
  pid: number;
  /** QEMU's pid, so tools (and test teardown) can reach it even if the runner died. */
  qemuPid: number;
  podName: string;
  apiUrl: string;
  qmpSocket: string;
  qmpManualSocket: string;
  consolePty?: string;
  sshConfig: string;
  networkMode: 'tap' | 'user';
  accel: 'kvm' | 'tcg';
}

export function sshConfigText(o: {
  host: string;
  port: number;
  identityFile: string;
  knownHosts: string;
}): string {
  return [
    `Host ${GUEST_HOSTNAME}`,
    `  HostName ${o.host}`,
    `  Port ${o.port}`,
    '  User root',
    `  IdentityFile ${o.identityFile}`,
    '  IdentitiesOnly yes',
    // The guest makes a new host key on every boot (and a migrated guest keeps its own).
    '  StrictHostKeyChecking accept-new',
    `  UserKnownHostsFile ${o.knownHosts}`,
    '  LogLevel ERROR',
    '',
  ].join('\n');
}

async function writeAtomic(path: string, content: string): Promise<void> {
  await writeFile(`${path}.tmp`, content);
  await rename(`${path}.tmp`, path);
}

export async function writeAccessFiles(
  paths: PodPaths,
  info: RunnerInfo,
  ssh: { host: string; port: number },
  writeHosts: boolean,
): Promise<void> {
  await writeAtomic(paths.runnerInfo, JSON.stringify(info, null, 2) + '\n');
  await writeAtomic(
    paths.sshConfig,
    sshConfigText({
      ...ssh,
      identityFile: paths.sshPrivateKey,
      knownHosts: join(paths.state, 'known_hosts'),
    }),
  );
  if (writeHosts) {
    const existing = await readFile(paths.hostsFile, 'utf8').catch(() => '');
    await mkdir(dirname(paths.hostsFile), { recursive: true });
    if (!existing.split('\n').some((l) => l.trim().split(/\s+/).includes(GUEST_HOSTNAME))) {
      await appendFile(paths.hostsFile, `${GUEST_IP} ${GUEST_HOSTNAME}\n`);
    }
  }
}

export async function readRunnerInfo(path: string): Promise<RunnerInfo> {
  return JSON.parse(await readFile(path, 'utf8')) as RunnerInfo;
}
