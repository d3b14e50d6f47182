/**
 * The release images run the way a cluster runs them: the runner image boots a VM inside a pod
 * network namespace, the operator image reconciles VMs on the local cluster. Used by
 * images.int.test.ts on freshly built and unpacked layouts.
 */
import { chmodSync, copyFileSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { LocalCluster } from '../../cluster';
import { freePort } from '../../cluster/control-plane/free-port';
import { ClusterNetwork } from '../../cluster/network';
import { pollUntil } from '../../cluster/util';
import { SeedFlow } from '../../cli/demo/seed-flow';
import {
  startNeonVmStack,
  type LocalOperatorSettings,
  type OperatorHandle,
} from '../../cli/local/neonvm-stack';
import { encodeGzipBase64, GROUP, VERSION } from '../../crds';
import { RunnerClient } from '../../runner/api';
import { readBundleProcess, startBundle, type RunningBundle } from './oci-bundle';

/** Waits for a process started from a bundle to exit; SIGKILL after `ms`. */
async function exitWithin(p: RunningBundle, ms: number): Promise<number | null> {
  const timer = setTimeout(() => p.child.kill('SIGKILL'), ms);
  try {
    return await p.exited;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The operator as its Deployment would run it, from the unpacked operator image: the image's
 * entrypoint, user (non-root) and env, the kubeconfig where a mounted Secret would put it, and the
 * flags the local stack needs. Ready once its /readyz (webhooks registered, caches synced) answers.
 */
async function startImageOperator(
  bundle: string,
  cluster: LocalCluster,
  s: LocalOperatorSettings,
): Promise<OperatorHandle & { process: RunningBundle; probePort: number }> {
  const rootfs = join(bundle, 'rootfs');
  mkdirSync(join(rootfs, 'etc/neonvm'), { recursive: true });
  copyFileSync(cluster.kubeconfigPath, join(rootfs, 'etc/neonvm/kubeconfig'));
  chmodSync(join(rootfs, 'etc/neonvm/kubeconfig'), 0o644);
  const probePort = await freePort();
  const op = startBundle(bundle, {
    args: [
      ...readBundleProcess(bundle).args,
      '--kubeconfig=/etc/neonvm/kubeconfig',
      `--namespace=${s.namespace}`,
      `--runner-image=${s.runnerImage}`,
      '--no-device-plugin-resources',
      '--disable-runner-cgroup',
      '--webhook-port=0',
      `--webhook-url-host=${s.webhookUrlHost}`,
      '--metrics-bind-address=0',
      `--health-probe-bind-address=127.0.0.1:${probePort}`,
      '--concurrency-limit=4',
    ],
    env: { POD_NAME: 'neonvm-operator-image-test' },
  });
  const stop = async () => {
    op.signal('SIGTERM');
    await exitWithin(op, 30_000);
  };
  try {
    await pollUntil(
      async () => {
        const res = await fetch(`http://127.0.0.1:${probePort}/readyz`);
        return res.ok ? true : undefined;
      },
      {
        timeoutMs: 120_000,
        intervalMs: 250,
        description: 'the operator image to be ready',
        abortIf: () =>
          op.child.exitCode === null
            ? undefined
            : new Error(`operator exited (${op.child.exitCode}):\n${op.output().slice(-5000)}`),
      },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { stop, process: op, probePort };
}

/** Boots a VM with the runner image (bundle: `umoci unpack` output), hot-plugs a CPU, stops it. */
export async function runnerImageRunsVm(bundle: string): Promise<void> {
  const b = bundle;
  const rootfs = join(b, 'rootfs');
  const token = 'release-test-token';
  // What the operator's runner pod mounts: the API token Secret.
  mkdirSync(join(rootfs, 'vm/secrets'), { recursive: true });
  writeFileSync(join(rootfs, 'vm/secrets/runner-token'), `${token}\n`, { mode: 0o600 });
  const net = await ClusterNetwork.create();
  let runner: RunningBundle | undefined;
  try {
    await net.addNode(1);
    const pod = await net.createSandbox('runner', 1);
    const spec = {
      guest: {
        rootDisk: { image: 'builtin' },
        cpus: { min: 1, max: 2, use: 1 },
        memorySlotSize: '256Mi',
        memorySlots: { min: 1, max: 2, use: 1 },
      },
    };
    runner = startBundle(b, {
      args: [
        ...readBundleProcess(b).args,
        `-vmspec=${encodeGzipBase64(spec)}`,
        '-memhp-auto-movable-ratio=301',
      ],
      // What the kubelet and the operator's pod spec set.
      env: {
        K8S_POD_NAME: 'vm-release-test',
        POD_IP: pod.ip,
        KUBERNETES_SERVICE_HOST: '10.96.0.1',
        KUBERNETES_SERVICE_PORT: '443',
      },
      netnsPrefix: pod.execPrefix,
    });
    const r = runner;
    const client = new RunnerClient({ baseUrl: `http://${pod.ip}:25183`, token, timeoutMs: 60_000 });
    await pollUntil(async () => ((await client.ready()) ? true : undefined), {
      timeoutMs: 240_000,
      intervalMs: 500,
      description: 'the guest of the runner image to be ready',
      abortIf: () =>
        r.child.exitCode === null
          ? undefined
          : new Error(`runner exited (${r.child.exitCode}):\n${r.output().slice(-5000)}`),
    });
    const status = await client.status();
    expect(status).toMatchObject({ guestReady: true, qemuStatus: 'running', networkMode: 'tap' });
    // The QEMU process is the image's: its root is the rootfs and its binary comes from there.
    const info = JSON.parse(readFileSync(join(rootfs, 'vm/runner/runner.json'), 'utf8')) as {
      qemuPid: number;
    };
    expect(readlinkSync(`/proc/${info.qemuPid}/root`)).toBe(rootfs);
    expect(readlinkSync(`/proc/${info.qemuPid}/exe`)).toBe(join(rootfs, 'usr/bin/qemu-system-x86_64'));
    await client.setCpu(2000);
    expect((await client.status()).cpus).toMatchObject({ use: 2, plugged: 2, online: 2 });
    // SIGTERM, as the kubelet stops a pod: ACPI power button → clean guest poweroff → exit 0.
    r.signal('SIGTERM');
    expect(await exitWithin(r, 60_000)).toBe(0);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- runner output ---\n${runner?.output().slice(-5000)}`);
  } finally {
    if (runner && runner.child.exitCode === null) {
      runner.child.kill('SIGKILL');
      await runner.exited;
    }
    await net.destroy();
  }
}

/** The operator image against a fresh local stack: a VM to Running, a CPU hot-plug, a webhook denial. */
export async function operatorImageReconcilesVm(bundle: string): Promise<void> {
  let op: Awaited<ReturnType<typeof startImageOperator>> | undefined;
  const stack = await startNeonVmStack({
    nodes: 1,
    progress: () => undefined,
    startOperator: async (cluster, settings) => (op = await startImageOperator(bundle, cluster, settings)),
  });
  const lines: string[] = [];
  try {
    const opPid = op?.process.innerPid();
    // node from the image, running as the image's non-root user
    expect(opPid).toBeDefined();
    const rootfs = join(bundle, 'rootfs');
    expect(readlinkSync(`/proc/${opPid}/exe`)).toBe(join(rootfs, 'usr/local/bin/node'));
    expect(readFileSync(`/proc/${opPid}/status`, 'utf8')).toMatch(/^Uid:\s+65532\s/m);

    const flow = new SeedFlow(stack, (l) => lines.push(l));
    await flow.apply('vm-hotplug.yaml');
    const vm = await flow.waitForPhase('example', 'Running');
    expect(vm.status?.podIP).toMatch(/^10\.\d+\.\d+\.\d+$/);
    await flow.scaleCpus('example', 2);

    // The admission webhook served by the image (TLS from its own CA) rejects a bad spec.
    const custom = stack.cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    const rejection = await custom
      .createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: 'virtualmachines',
        namespace: 'default',
        body: {
          apiVersion: `${GROUP}/${VERSION}`,
          kind: 'VirtualMachine',
          metadata: { name: 'bad' },
          spec: {
            guest: { rootDisk: { image: 'x' } },
            disks: [{ name: 'rootdisk', mountPath: '/x', emptyDisk: { size: '1Gi' } }],
          },
        },
      })
      .then(
        () => 'created',
        (e: unknown) => String((e as { body?: unknown }).body),
      );
    expect(rejection).toMatch(/admission webhook .*denied the request.*spec\.disks\[0\]\.name/s);

    // Deleting the VM removes its runner pod (owner reference) after the guest shut down.
    await stack.kubectl('delete', 'neonvm', 'example', '--wait=true', '--timeout=120s');
    await pollUntil(
      async () =>
        (await stack.kubectl('get', 'pods', '-A', '-l', 'vm.neon.tech/name=example', '-oname')) === ''
          ? true
          : undefined,
      { timeoutMs: 120_000, intervalMs: 500, description: 'the runner pod of the deleted VM to be gone' },
    );
  } catch (err) {
    throw new Error(
      `${(err as Error).message}\n--- flow ---\n${lines.join('\n')}\n--- operator ---\n${op?.process.output().slice(-5000)}`,
    );
  } finally {
    await stack.stop();
  }
  expect(await op?.process.exited).toBe(0);
}
