/**
 * The release as a user installs it, on real nodes (kubelet + containerd + runc + kube-proxy): `npm run
 * build:images`, the images imported into each node's containerd, `kubectl apply -f
 * dist/install/neonvm.yaml` with only the registry changed — so the operator and the device plugin run
 * as pods from their images with the manifest's default flags (device plugin resources requested) —
 * then the seed flows on those nodes: VM Running, CPU and memory hot-plug seen by the guest, `kubectl
 * exec <pod> -- ssh guest-vm`, a live migration between two runner pods on two real nodes, a deleted
 * runner pod and `kill 1` in the runner container each restart the VM, `kubectl delete` removes
 * everything, and stopping the nodes leaves nothing behind. Slow: 2122 s on 2 cores at load average
 * 35-45 (release build ~16 min, two nodes Ready ~3 min, the first VM boot ~100 s under TCG).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { AppsV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { describeRealNodes } from '../../cluster/testing';
import { RUNNER_CONTAINER_NAME } from '../../crds';
import { INSTALL_NAMES } from '../../constructs/install/install-options';
import { pollUntil } from '../../host';
import { RELEASE_NAMESPACE, SeedFlow, startReleaseStack, type NeonVmStack } from '../../local-stack';

const run = promisify(execFile);
const repoDir = resolve(__dirname, '../..');
const REGISTRY = 'neonvm.local/neonvm-ts';
const ARCH = process.arch === 'arm64' ? 'arm64' : 'amd64';

jest.setTimeout(900_000);

describeRealNodes()('NeonVM release on real nodes', () => {
  let dist: string;
  let stack: NeonVmStack;
  let flow: SeedFlow;
  let core: CoreV1Api;
  const lines: string[] = [];
  const kubectl = (...args: string[]): Promise<string> => stack.kubectl(...args);
  const realNodeNames = (): string[] => (stack.realNodes ?? []).map((n) => n.name);

  const runnerPod = async (vm: string): Promise<V1Pod> => {
    const name = (await flow.vm(vm)).status?.podName ?? '';
    return core.readNamespacedPod({ name, namespace: 'default' });
  };

  /** What the VM's runner container runs as PID 1 (its own PID namespace under runc). */
  const pid1 = async (pod: string): Promise<string> =>
    (await kubectl('exec', pod, '--', 'cat', '/proc/1/cmdline')).split('\0').join(' ').trim();

  /** Waits until the VM runs again in a new pod; returns it. */
  const restartedFrom = async (vm: string, oldPod: string, restartCount: number) =>
    pollUntil(
      async () => {
        const v = await flow.vm(vm);
        return v.status?.phase === 'Running' &&
          v.status.podName !== oldPod &&
          (v.status.restartCount ?? 0) > restartCount
          ? v
          : undefined;
      },
      { description: `${vm} to run again in a new pod`, timeoutMs: 600_000, intervalMs: 1000 },
    );

  beforeAll(async () => {
    dist = mkdtempSync(join(tmpdir(), 'neonvm-real-node-dist-'));
    // As a user builds the release; the registry is ours (the images are imported, not pulled).
    await run('npm', ['run', 'build:images', '--', '--arch', ARCH, '--registry', REGISTRY, '--out', dist], {
      cwd: repoDir,
      maxBuffer: 64 << 20,
    });
    stack = await startReleaseStack({ dist, registry: REGISTRY, progress: (l) => lines.push(l) });
    flow = new SeedFlow(stack, (l) => lines.push(l));
    core = stack.cluster.kubeConfig.makeApiClient(CoreV1Api);
  }, 3_600_000);

  afterAll(async () => {
    await stack?.stop();
    if (dist) rmSync(dist, { recursive: true, force: true });
  }, 300_000);

  afterEach(() => {
    if (process.env.NEONVM_E2E_VERBOSE) console.log(lines.join('\n'));
    lines.length = 0;
  });

  it('installs the manifest as built: operator and device plugin pods from the release images, default flags', async () => {
    const docs = parseAllDocuments(readFileSync(join(dist, 'install', 'neonvm.yaml'), 'utf8')).map(
      (d) =>
        d.toJS() as { kind: string; spec?: { template?: { spec?: { containers?: { args?: string[] }[] } } } },
    );
    const manifestArgs = docs.find((d) => d.kind === 'Deployment')?.spec?.template?.spec?.containers?.[0]
      .args;
    const apps = stack.cluster.kubeConfig.makeApiClient(AppsV1Api);
    const deployment = await apps.readNamespacedDeployment({
      name: INSTALL_NAMES.deployment,
      namespace: RELEASE_NAMESPACE,
    });
    const manager = deployment.spec!.template.spec!.containers[0];
    expect(manager.image).toMatch(new RegExp(`^${REGISTRY}/neonvm-operator@sha256:[0-9a-f]{64}$`));
    expect(manager.args).toEqual(manifestArgs);
    expect(manager.args).not.toContain('--no-device-plugin-resources');
    const pods = (await core.listNamespacedPod({ namespace: RELEASE_NAMESPACE })).items;
    const operator = pods.filter((p) => p.metadata?.name?.startsWith(`${INSTALL_NAMES.deployment}-`));
    expect(operator).toHaveLength(1);
    expect(realNodeNames()).toContain(operator[0].spec?.nodeName);
    expect(operator[0].status?.containerStatuses?.[0].ready).toBe(true);
    const plugins = pods.filter((p) => p.metadata?.name?.startsWith(`${INSTALL_NAMES.devicePlugin}-`));
    expect(plugins.map((p) => p.spec?.nodeName).sort()).toEqual(realNodeNames().sort());
    for (const p of plugins) expect(p.status?.containerStatuses?.[0].ready).toBe(true);
  });

  it('the device plugin registers with each kubelet: neonvm/kvm and neonvm/vhost-net in capacity and allocatable', async () => {
    for (const name of realNodeNames()) {
      const node = await core.readNode({ name });
      // 1000 devices each (the Quantity 1000 reads `1k`).
      expect(node.status?.capacity).toMatchObject({ 'neonvm/kvm': '1k', 'neonvm/vhost-net': '1k' });
      // vhost-net is optional (Healthy without /dev/vhost-net); kvm is offered where /dev/kvm exists.
      expect(node.status?.allocatable?.['neonvm/vhost-net']).toBe('1k');
      expect(node.status?.allocatable?.['neonvm/kvm']).toBe(existsSync('/dev/kvm') ? '1k' : '0');
    }
  });

  it('runs a VM on a real node: the runner pod asks for the devices, gets /dev/kvm, and its runner is PID 1', async () => {
    await flow.apply('vm-hotplug.yaml');
    const vm = await flow.waitForPhase('example', 'Running', 600_000);
    expect(realNodeNames()).toContain(vm.status?.node);
    const pod = await runnerPod('example');
    const runner = pod.spec!.containers.find((c) => c.name === RUNNER_CONTAINER_NAME)!;
    expect(runner.image).toMatch(new RegExp(`^${REGISTRY}/neonvm-runner@sha256:[0-9a-f]{64}$`));
    expect(runner.resources?.limits).toMatchObject({ 'neonvm/kvm': '1', 'neonvm/vhost-net': '1' });
    // The device plugin's Allocate answer: the kubelet had containerd create the node in the container.
    expect(await kubectl('exec', pod.metadata!.name!, '--', 'stat', '-c', '%F %t:%T', '/dev/kvm')).toBe(
      'character special file a:e8\n',
    );
    expect(await pid1(pod.metadata!.name!)).toMatch(/^\/usr\/local\/bin\/node \/app\/lib\/runner\/main\.js /);
    expect(await flow.guestView('example')).toEqual({ onlineCpus: 1, memoryBytes: 512 * 2 ** 20 });
  });

  it('hot-plugs CPUs and memory: the guest sees them', async () => {
    await flow.scaleCpus('example', 2);
    await flow.scaleMemory('example', 2);
    expect(await flow.guestView('example')).toEqual({ onlineCpus: 2, memoryBytes: 2 ** 30 });
  });

  it('reaches the guest with `kubectl exec <pod> -- ssh guest-vm`', async () => {
    expect(await flow.inGuest('example', 'uname -s')).toBe('Linux\n');
  });

  it('live-migrates between runner pods on the two real nodes', async () => {
    const before = await flow.vm('example');
    // A failed target pod is deleted by the migration controller, and with it its logs on a real
    // node: keep the last logs of every other runner pod of the VM while the migration runs, to print
    // when it fails.
    const targetLogs = new Map<string, string>();
    let migrating = true;
    const capture = (async () => {
      while (migrating) {
        const pods = await core
          .listNamespacedPod({ namespace: 'default', labelSelector: 'vm.neon.tech/name=example' })
          .catch(() => undefined);
        for (const p of pods?.items ?? []) {
          const name = p.metadata?.name ?? '';
          if (name === before.status?.podName) continue;
          const logs = await kubectl('logs', name, '-c', RUNNER_CONTAINER_NAME, '--tail=60').catch(
            () => undefined,
          );
          if (logs) targetLogs.set(name, logs);
        }
        await new Promise((r) => setTimeout(r, 2000));
      }
    })();
    const m = await flow
      .migrate('vm-example-migration.yaml', 'example')
      .catch((err: unknown) => {
        for (const [pod, logs] of targetLogs) console.log(`last logs of target runner pod ${pod}:\n${logs}`);
        throw err;
      })
      .finally(async () => {
        migrating = false;
        await capture;
      });
    expect(m.status?.info).toMatchObject({ status: 'completed' });
    const after = await flow.waitForPhase('example', 'Running');
    expect(after.status?.node).not.toBe(before.status?.node);
    expect(realNodeNames()).toContain(after.status?.node);
    const view = await pollUntil(
      async () => {
        const v = await flow.guestView('example');
        return v.onlineCpus === undefined ? undefined : v;
      },
      { description: 'the guest view through the target runner', timeoutMs: 180_000, intervalMs: 500 },
    );
    expect(view).toEqual({ onlineCpus: 2, memoryBytes: 2 ** 30 });
    await pollUntil(
      async () => {
        const pods = await core.listNamespacedPod({
          namespace: 'default',
          labelSelector: 'vm.neon.tech/name=example',
        });
        return pods.items.length === 1 ? true : undefined;
      },
      { description: 'the source pod to be deleted', timeoutMs: 180_000, intervalMs: 500 },
    );
  });

  it('restarts the VM when its runner pod is deleted', async () => {
    const vm = await flow.vm('example');
    await kubectl('delete', 'pod', vm.status!.podName!, '--wait=false');
    const restarted = await restartedFrom('example', vm.status!.podName!, vm.status?.restartCount ?? 0);
    expect(restarted.status?.restartCount).toBe((vm.status?.restartCount ?? 0) + 1);
  });

  it('restarts the VM after `kubectl exec <runner pod> -- kill 1` (PID 1 = the runner)', async () => {
    const vm = await flow.vm('example');
    const pod = vm.status!.podName!;
    // Never signal PID 1 before knowing it is the runner in the container's own PID namespace.
    expect(await pid1(pod)).toMatch(/\/app\/lib\/runner\/main\.js /);
    await kubectl('exec', pod, '--', 'kill', '1');
    const restarted = await restartedFrom('example', pod, vm.status?.restartCount ?? 0);
    expect(restarted.status?.restartCount).toBe((vm.status?.restartCount ?? 0) + 1);
  });

  it('kubectl delete removes the VM, its pods and its secrets', async () => {
    await kubectl('delete', 'neonvm', 'example', '--timeout=300s');
    await pollUntil(
      async () => {
        const pods = await core.listNamespacedPod({
          namespace: 'default',
          labelSelector: 'vm.neon.tech/name=example',
        });
        const secrets = await core.listNamespacedSecret({ namespace: 'default' });
        const owned = secrets.items.filter((s) => s.metadata?.name?.endsWith('neonvm-example'));
        return pods.items.length === 0 && owned.length === 0 ? true : undefined;
      },
      { description: 'pods and secrets of the VM to be gone', timeoutMs: 300_000, intervalMs: 1000 },
    );
    // Nothing of the VM is left in either node's containerd either.
    for (const node of stack.realNodes ?? [])
      expect(
        await node.crictl('pods', '--label', 'vm.neon.tech/name=example', '--state', 'ready', '-q'),
      ).toBe('');
  });

  it('stopping the real nodes leaves nothing behind: containers, shims, mounts, cgroups, netns, veths', async () => {
    // The operator and device plugin pods are still running: the teardown stops them through the CRI.
    for (const node of stack.realNodes ?? [])
      expect(await node.stop()).toEqual({ processes: [], cgroups: [], mounts: [], links: [], dirs: [] });
  });
});
