import { CoreV1Api, CustomObjectsApi, Exec, KubeConfig, V1Status } from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { GROUP, VERSION, type VirtualMachine } from '../crds';
import type { RunnerInfo } from '../runner/lifecycle';
import { findRunner } from './local-vm-dirs';

/** Where to find a VM in a cluster (`neonvm ssh|console --kubeconfig/--context/-n`). */
export interface ClusterTarget {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

/** True when the user pointed at a cluster explicitly. */
export function wantsCluster(opts: ClusterTarget): boolean {
  return Boolean(opts.kubeconfig || opts.context || opts.namespace);
}

/** True when a kubeconfig is available without flags ($KUBECONFIG or ~/.kube/config). */
export function hasDefaultKubeconfig(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.KUBECONFIG) || existsSync(join(homedir(), '.kube', 'config'));
}

/**
 * Where `neonvm ssh|console <name>` goes: the runner of a local `neonvm run` VM, or the runner pod of
 * a VirtualMachine in a cluster — when cluster flags are given, or when no local VM has the name and a
 * kubeconfig exists.
 */
export async function resolveVmTarget(
  target: { name?: string; dir?: string },
  cluster: ClusterTarget,
): Promise<{ local: RunnerInfo } | { clusterVm: string }> {
  const name = target.dir ? undefined : target.name;
  if (name && wantsCluster(cluster)) return { clusterVm: name };
  try {
    return { local: await findRunner(target) };
  } catch (err) {
    if (name && hasDefaultKubeconfig()) return { clusterVm: name };
    throw err;
  }
}

/**
 * The exit code in the v1 Status that ends a remotecommand session: Success is 0, a NonZeroExitCode
 * failure carries the code in details.causes, and any other failure (the command could not start) is 1.
 */
export function exitCodeFromStatus(status: V1Status | undefined): number {
  if (!status || status.status === 'Success') return status ? 0 : 1;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = Number(cause?.message);
  return Number.isInteger(code) && code > 0 ? code : 1;
}

function loadKubeConfig(opts: ClusterTarget): KubeConfig {
  const kc = new KubeConfig();
  if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
  else kc.loadFromDefault();
  if (opts.context) kc.setCurrentContext(opts.context);
  return kc;
}

/** A VM's runner pod as reported in its status. */
export interface RunnerPod {
  kubeConfig: KubeConfig;
  namespace: string;
  pod: string;
  container: string;
}

export async function findRunnerPod(name: string, opts: ClusterTarget): Promise<RunnerPod> {
  const kubeConfig = loadKubeConfig(opts);
  const namespace =
    opts.namespace ?? kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace ?? 'default';
  const vm = (await kubeConfig.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: 'virtualmachines',
    name,
  })) as VirtualMachine;
  const pod = vm.status?.podName;
  if (!pod)
    throw new Error(
      `VirtualMachine ${namespace}/${name} has no runner pod yet (phase ${vm.status?.phase ?? 'none'})`,
    );
  const spec = (await kubeConfig.makeApiClient(CoreV1Api).readNamespacedPod({ namespace, name: pod })).spec;
  // The runner is the pod's first container (sidecars, if any, come after it).
  const container = spec?.containers[0]?.name;
  if (!container) throw new Error(`pod ${namespace}/${pod} has no containers`);
  return { kubeConfig, namespace, pod, container };
}

/**
 * Runs `command` in the runner pod through the API server (WebSocket), wired to this terminal. With
 * `tty`, the local terminal goes raw and its size follows (client-node resizes when stdout is a TTY).
 */
export async function execInRunner(target: RunnerPod, command: string[], tty: boolean): Promise<number> {
  const stdin = process.stdin;
  const raw = tty && stdin.isTTY;
  if (raw) stdin.setRawMode(true);
  try {
    return await new Promise<number>((resolve, reject) => {
      let status: V1Status | undefined;
      new Exec(target.kubeConfig)
        .exec(
          target.namespace,
          target.pod,
          target.container,
          command,
          process.stdout,
          process.stderr,
          stdin,
          tty,
          (s) => {
            status = s;
          },
        )
        .then((ws) => ws.on('close', () => resolve(exitCodeFromStatus(status))), reject);
    });
  } finally {
    if (raw) stdin.setRawMode(false);
    stdin.pause();
  }
}

/** `ssh guest-vm` inside the runner pod (its /etc/hosts and ssh_config point at the guest). */
export function sshCommand(command: readonly string[]): string[] {
  return ['ssh', ...(command.length === 0 ? ['-t'] : []), 'guest-vm', ...command];
}

/** `screen` on the guest's serial console pty (the runner links it at /vm/runner/console). */
export const CONSOLE_COMMAND = ['sh', '-c', 'exec screen "$(readlink -f /vm/runner/console)"'];
