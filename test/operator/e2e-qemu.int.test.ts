/**
 * End to end with the real runner and QEMU: the operator on the local cluster, `runner/main.ts` as the
 * runner pod's `runner` command, the cached Debian guest image. A VM becomes Running only when its guest
 * agent answers, scales its CPUs through the runner API, and live-migrates to another node (with
 * upstream's migration tuning, so status.info has compression figures). A VM naming
 * an image built with `neonvm image build` boots that image's disk (the runner pod's init container
 * copies its /disk.qcow2) and runs its entrypoint as its User with its Env; a VM naming an image that
 * is not in the store is Degraded (ImagePullFailed) naming spec.guest.rootDisk.image.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollUntil } from '../../host';
import { ensureGuestArtifacts } from '../../guest';
import { buildVmImage } from '../../image/builder';
import { TEST_WORKLOAD_MARKER, writeBusyboxImage } from '../../image/testing/busybox-image';
import { ImageStore } from '../../cluster/image-store';
import { GROUP, VERSION } from '../../crds';
import { ensureDebianImage } from '../../image/debian/debian-image';
import { installRunnerCommand, localOperatorOptions, localOperatorSettings } from '../../local-stack';
import { createNamespace, useLocalCluster } from '../../cluster/testing';
import { CoreV1Api, CustomObjectsApi, setHeaderOptions } from '@kubernetes/client-node';
import { Operator } from '../../operator/operator';
import { createLogger, silentLogger } from '../../operator/controller-kit';
import { installCrds } from './operator-env';
import { migrationApi, runnerPods, vmApi, waitForVm } from './operator-fixture';

const RUNNER_IMAGE = 'neonvm/runner:e2e';
jest.setTimeout(20 * 60_000);
// Per test too: useLocalCluster sets jest's default to 2 min after the file's setTimeout ran.
const TEST_TIMEOUT_MS = 20 * 60_000;

const runnerCommand = installRunnerCommand();
let operator: Operator | undefined;
// The cluster's own image store: the Debian image is registered in it by reference (its disk stays in
// the shared store), test images are built into it and go away with it.
const work = mkdtempSync(join(tmpdir(), 'neonvm-e2e-qemu-'));
// Declared before useLocalCluster's hooks so the operator stops before the cluster does.
afterAll(async () => {
  await operator?.stop();
  runnerCommand.remove();
  rmSync(work, { recursive: true, force: true });
});
const cluster = useLocalCluster({ nodes: 3, imageStoreDir: join(work, 'images') });

beforeAll(async () => {
  const debian = await ensureDebianImage();
  const shared = new ImageStore().resolve(debian.refs[0])!;
  for (const ref of debian.refs) cluster().images.register(ref, shared);
  await installCrds(cluster());
  cluster().images.register(RUNNER_IMAGE, { entrypoint: ['runner'] });
  await cluster()
    .kubeConfig.makeApiClient(CoreV1Api)
    .createNamespace({ body: { metadata: { name: 'neonvm-system' } } });
  const options = localOperatorOptions(cluster().kubeConfig, localOperatorSettings(RUNNER_IMAGE), {
    identity: 'e2e',
    concurrency: 4,
    log: process.env.NEONVM_TEST_LOG ? createLogger({ level: process.env.NEONVM_TEST_LOG }) : silentLogger(),
  });
  // Upstream's migration tuning on every runner pod, so the migration reports compression figures.
  operator = new Operator({
    ...options,
    runnerPod: { ...options.runnerPod, migrationTuning: { xbzrle: true, compression: 'compress' } },
  });
  await operator.start();
}, 30 * 60_000);

it(
  'boots a Debian guest, scales its CPUs and migrates it',
  async () => {
    const core = cluster().kubeConfig.makeApiClient(CoreV1Api);
    const custom = cluster().kubeConfig.makeApiClient(CustomObjectsApi);
    const ns = await createNamespace(core, 'e2e');
    await vmApi(custom, ns).create({
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'VirtualMachine',
      metadata: { name: 'deb' },
      spec: {
        guest: {
          cpus: { min: 1, max: 2, use: 1 },
          memorySlots: { min: 1, max: 2, use: 1 },
          rootDisk: { image: 'neondatabase/vm-debian:11' },
          command: ['sleep', 'infinity'],
        },
      },
    });
    const running = await waitForVm(
      custom,
      ns,
      'deb',
      (vm) => vm.status?.phase === 'Running' && vm.status.cpus !== undefined,
      8 * 60_000,
    );
    expect(running.status?.restartCount).toBe(0);

    await custom.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        plural: 'virtualmachines',
        namespace: ns,
        name: 'deb',
        body: [{ op: 'replace', path: '/spec/guest/cpus/use', value: 2 }],
      },
      setHeaderOptions('Content-Type', 'application/json-patch+json'),
    );
    await waitForVm(
      custom,
      ns,
      'deb',
      (vm) => vm.status?.phase === 'Running' && vm.status.cpus === 2,
      3 * 60_000,
    );

    await migrationApi(custom, ns).create({
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'VirtualMachineMigration',
      metadata: { name: 'mig' },
      spec: { vmName: 'deb' },
    });
    const done = await pollUntil(
      async () => {
        const m = await migrationApi(custom, ns).get('mig');
        return m.status?.phase === 'Succeeded' || m.status?.phase === 'Failed' ? m : undefined;
      },
      { timeoutMs: 8 * 60_000, intervalMs: 1000, description: 'migration finished' },
    );
    const degraded = done.status?.conditions?.find((c) => c.type === 'Degraded');
    expect(`${done.status?.phase} ${degraded?.message ?? ''}`.trim()).toBe('Succeeded');
    // status.info carries QEMU's compression figures (compress capability on both runners).
    expect(done.status?.info?.compression?.compressedSize).toBeGreaterThan(0);
    expect(done.status?.info?.compression?.compressionRate).toBeGreaterThanOrEqual(1);
    const after = await waitForVm(
      custom,
      ns,
      'deb',
      (vm) => vm.status?.phase === 'Running' && vm.status.podName === done.status?.targetPodName,
      3 * 60_000,
    );
    expect(after.status?.node).not.toBe(running.status?.node);
    await pollUntil(async () => ((await runnerPods(core, ns, 'deb')).length === 1 ? true : undefined), {
      timeoutMs: 60_000,
      description: 'source pod gone',
    });
  },
  TEST_TIMEOUT_MS,
);

it(
  'boots a VM from an image built with neonvm image build: its entrypoint, User and Env',
  async () => {
    const core = cluster().kubeConfig.makeApiClient(CoreV1Api);
    const custom = cluster().kubeConfig.makeApiClient(CustomObjectsApi);
    const ns = await createNamespace(core, 'e2e-image');
    const guest = await ensureGuestArtifacts({ arch: 'amd64' });
    await writeBusyboxImage(join(work, 'layout'), join(guest.rootfsDir, 'neonvm/bin/busybox'), {
      os: 'linux',
      architecture: 'amd64',
    });
    await buildVmImage({
      source: join(work, 'layout'),
      tags: ['neonvm-test/cluster-image:1'],
      store: cluster().images,
      progress: () => undefined,
    });
    await vmApi(custom, ns).create({
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'VirtualMachine',
      metadata: { name: 'img' },
      spec: {
        guest: {
          cpus: { min: 1, max: 1, use: 1 },
          memorySlotSize: '256Mi',
          memorySlots: { min: 1, max: 1, use: 1 },
          rootDisk: { image: 'neonvm-test/cluster-image:1' },
          env: [{ name: 'GREETING', value: 'hello from the cluster' }],
        },
      },
    });
    const vm = await waitForVm(custom, ns, 'img', (v) => v.status?.phase === 'Running', 8 * 60_000);
    // The guest console is the runner's stdout: the pod log.
    const log = await pollUntil(
      async () => {
        const text = await core.readNamespacedPodLog({
          name: vm.status!.podName!,
          namespace: ns,
          container: 'neonvm-runner',
        });
        return text.includes(`${TEST_WORKLOAD_MARKER} uid=`) ? text : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1000, description: 'the workload line in the pod log' },
    );
    expect(log).toContain(
      `${TEST_WORKLOAD_MARKER} uid=1000 pwd=/app greeting=hello from the cluster argc=2 args=first second arg`,
    );
    expect(log).not.toMatch(/no workload command/);
  },
  TEST_TIMEOUT_MS,
);

it(
  'says on the VM that spec.guest.rootDisk.image cannot be pulled (an image not in the store)',
  async () => {
    const core = cluster().kubeConfig.makeApiClient(CoreV1Api);
    const custom = cluster().kubeConfig.makeApiClient(CustomObjectsApi);
    const ns = await createNamespace(core, 'e2e-missing');
    await vmApi(custom, ns).create({
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'VirtualMachine',
      metadata: { name: 'typo' },
      spec: {
        guest: {
          cpus: { min: 1, max: 1, use: 1 },
          memorySlotSize: '256Mi',
          memorySlots: { min: 1, max: 1, use: 1 },
          rootDisk: { image: 'neonvm-test/never-built:1' },
        },
      },
    });
    const vm = await waitForVm(
      custom,
      ns,
      'typo',
      (v) =>
        v.status?.conditions?.some((c) => c.type === 'Degraded' && c.reason === 'ImagePullFailed') ?? false,
      120_000,
    );
    expect(vm.status?.phase).toBe('Pending');
    const degraded = vm.status!.conditions!.find((c) => c.type === 'Degraded')!;
    expect(degraded.message).toMatch(
      /^spec\.guest\.rootDisk\.image: image "neonvm-test\/never-built:1" cannot be pulled: .*not found/,
    );
    const events = await core.listNamespacedEvent({ namespace: ns });
    expect(
      events.items.filter((e) => e.reason === 'ImagePullFailed' && e.involvedObject.name === 'typo'),
    ).toHaveLength(1);
    // Deleting it leaves nothing behind.
    await vmApi(custom, ns).delete('typo');
    await pollUntil(async () => ((await runnerPods(core, ns, 'typo')).length === 0 ? true : undefined), {
      timeoutMs: 60_000,
      description: 'the runner pod of the deleted VM to go away',
    });
  },
  TEST_TIMEOUT_MS,
);
