/**
 * The operator against a real API server (cluster/ harness) with simulated runners (fake-runner.ts):
 * admission webhooks registered with a caBundle, the VM lifecycle, restarts, scaling, overlay IPAM,
 * migration, crash recovery and leader failover.
 */
import { CoordinationV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { pollUntil } from '../../host';
import { ANNOTATION_USAGE, GROUP, VERSION } from '../../crds';
import { createNamespace } from '../../cluster/testing';
import {
  FAKE_DISK_IMAGE,
  OPERATOR_NAMESPACE,
  migrationApi,
  runnerPods,
  useOperatorCluster,
  vmApi,
  vmBody,
  waitForVm,
} from './operator-fixture';
import { installMultusNadCrd } from './operator-env';
import { WriteDropper } from '../faults/write-dropper';

jest.setTimeout(180_000);
const env = useOperatorCluster();

const invalid = (name: string, spec: Record<string, unknown>, guest: Record<string, unknown> = {}) => ({
  apiVersion: `${GROUP}/${VERSION}`,
  kind: 'VirtualMachine',
  metadata: { name },
  spec: {
    guest: {
      cpus: { min: 1, max: 4, use: 1 },
      memorySlots: { min: 1, max: 4, use: 1 },
      rootDisk: { image: FAKE_DISK_IMAGE },
      ...guest,
    },
    ...spec,
  },
});

/** Creates migration `mig` of `vmName` in `ns` and waits until it has ended (Succeeded or Failed). */
async function migrateAndWait(ns: string, vmName: string) {
  await migrationApi(env.custom(), ns).create({
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'VirtualMachineMigration',
    metadata: { name: 'mig' },
    spec: { vmName },
  });
  return pollUntil(
    async () => {
      const m = await migrationApi(env.custom(), ns).get('mig');
      return m.status?.phase === 'Succeeded' || m.status?.phase === 'Failed' ? m : undefined;
    },
    { timeoutMs: 90_000, description: 'migration finished' },
  );
}

describe('admission webhooks through the API server', () => {
  it('rejects invalid VirtualMachines and migrations, naming the field paths', async () => {
    await env.startOperator();
    const ns = await createNamespace(env.core(), 'webhooks');
    const vms = vmApi(env.custom(), ns);
    const cases: Array<[unknown, string]> = [
      [invalid('a1', {}, { cpus: { min: 1, max: 4, use: 5 } }), 'spec.guest.cpus.use'],
      [invalid('a2', {}, { cpus: { min: 2, max: 4, use: 1 } }), 'spec.guest.cpus.use'],
      [invalid('a3', {}, { cpus: { min: 0, max: 4, use: 1 } }), 'spec.guest.cpus.min'],
      [invalid('a4', {}, { memorySlots: { min: 1, max: 4, use: 9 } }), 'spec.guest.memorySlots'],
      [invalid('a5', {}, { memorySlots: { min: 3, max: 4, use: 2 } }), 'spec.guest.memorySlots.use'],
      [invalid('a6', {}, { memorySlotSize: '1000Ki' }), 'spec.guest.memorySlotSize'],
      [
        invalid('a7', { disks: [{ name: 'rootdisk', mountPath: '/x', emptyDisk: { size: '1Gi' } }] }),
        'spec.disks[0].name',
      ],
      [
        invalid('a8', { disks: [{ name: 'a'.repeat(33), mountPath: '/x', emptyDisk: { size: '1Gi' } }] }),
        'spec.disks[0].name',
      ],
      [
        invalid('a9', { disks: [{ name: 'd', mountPath: 'rel', emptyDisk: { size: '1Gi' } }] }),
        'spec.disks[0].mountPath',
      ],
      [
        invalid('a10', {
          disks: [
            { name: 'd', mountPath: '/a', emptyDisk: { size: '1Gi' } },
            { name: 'd', mountPath: '/b', emptyDisk: { size: '1Gi' } },
          ],
        }),
        'spec.disks[1].name',
      ],
      [invalid('a11', {}, { ports: [{ name: 'qmp', port: 80 }] }), 'spec.guest.ports[0].name'],
      [invalid('a12', {}, { ports: [{ port: 80, protocol: 'ICMP' }] }), 'spec.guest.ports[0].protocol'],
      [invalid('a13', {}, { ports: [{ port: 80 }, { port: 80 }] }), 'spec.guest.ports[1].port'],
      [invalid('a14', {}, { env: [{ name: 'A' }, { name: 'A' }] }), 'spec.guest.env[1].name'],
      [invalid('a15', { tls: { serverName: 'x' } }), 'spec.tls.certificateIssuer'],
      [invalid('a16', { tls: { certificateIssuer: 'ca' } }), 'spec.tls.serverName'],
      [
        invalid('a17', { tls: { certificateIssuer: 'ca', serverName: 'x', expireAfter: 'soon' } }),
        'spec.tls.expireAfter',
      ],
      [
        invalid('a18', { disks: [{ name: 'c', mountPath: '/c', configMap: {} }] }),
        'spec.disks[0].configMap.name',
      ],
      [
        invalid('a19', { disks: [{ name: 's', mountPath: '/s', secret: {} }] }),
        'spec.disks[0].secret.secretName',
      ],
      [invalid('a20', {}, { cpus: { min: 1, max: 2, use: '1.5x' } }), 'spec.guest.cpus.use'],
      [
        invalid('a21', { disks: [{ name: 'd', mountPath: '/a/../b', emptyDisk: { size: '1Gi' } }] }),
        'spec.disks[0].mountPath',
      ],
      [
        invalid('a22', {}, { cpus: { min: 1, max: 4, use: 5 }, memorySlots: { min: 1, max: 4, use: 9 } }),
        'spec.guest.cpus.use',
      ],
    ];
    const messages: string[] = [];
    for (const [body, path] of cases) {
      const err = await vms.create(body).then(
        () => undefined,
        (e: unknown) => e as { code?: number; body?: string },
      );
      const name = (body as { metadata: { name: string } }).metadata.name;
      expect({ name, rejected: err !== undefined }).toEqual({ name, rejected: true });
      const message = String(err?.body ?? '');
      messages.push(message);
      expect({ name, mentions: message.includes(path) }).toEqual({ name, mentions: true });
    }
    expect(messages.filter((m) => m.includes('admission webhook')).length).toBeGreaterThanOrEqual(20);

    // Update rules: immutability and set-once fields.
    await vms.create(vmBody('ok', { cpuScalingMode: 'QmpScaling' }));
    // The operator writes the VM concurrently (finalizer, status): retry our update on 409 Conflict.
    const replaceWith = async (mutate: (vm: Record<string, unknown>) => void): Promise<string> => {
      for (;;) {
        const vm = (await vms.get('ok')) as unknown as Record<string, unknown>;
        mutate(vm);
        const result = await env
          .custom()
          .replaceNamespacedCustomObject({
            group: GROUP,
            version: VERSION,
            plural: 'virtualmachines',
            namespace: ns,
            name: 'ok',
            body: vm,
          })
          .then(
            () => '',
            (e: { code?: number; body?: string }) => (e.code === 409 ? undefined : String(e.body)),
          );
        if (result !== undefined) return result;
      }
    };
    expect(
      await replaceWith((vm) => ((vm.spec as { guest: { cpus: { max: number } } }).guest.cpus.max = 8)),
    ).toContain('spec.guest.cpus.max');
    expect(
      await replaceWith((vm) => ((vm.spec as { cpuScalingMode: string }).cpuScalingMode = 'SysfsScaling')),
    ).toContain('spec.cpuScalingMode');
    expect(
      await replaceWith((vm) => ((vm.spec as { guest: { cpus: { use: number } } }).guest.cpus.use = 2)),
    ).toBe('');

    const migrations = migrationApi(env.custom(), ns);
    const badMigration = await migrations
      .create({
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'VirtualMachineMigration',
        metadata: { name: 'm' },
        spec: { vmName: 'Not_A_Name' },
      })
      .then(
        () => '',
        (e: { body?: string }) => String(e.body),
      );
    expect(badMigration).toContain('spec.vmName');
  });

  it('mutating webhook canonicalises encodings (cpus 0.25 -> "250m")', async () => {
    await env.startOperator();
    const ns = await createNamespace(env.core(), 'mutate');
    await vmApi(env.custom(), ns).create(
      vmBody('frac', {
        guest: {
          cpus: { min: 0.25, max: 1, use: 0.5 },
          memorySlots: { min: 1, max: 1, use: 1 },
          rootDisk: { image: FAKE_DISK_IMAGE },
        },
      }),
    );
    const vm = await vmApi(env.custom(), ns).get('frac');
    expect(vm.spec.guest.cpus).toEqual({ min: '250m', max: 1, use: '500m' });
  });

  it('an UPDATE that omits a set-once field keeps its stored value (kubectl replace -f of the manifest)', async () => {
    await env.startOperator();
    const ns = await createNamespace(env.core(), 'replace');
    const manifest = vmBody('replaced');
    await vmApi(env.custom(), ns).create(manifest);
    // The operator writes spec.cpuScalingMode (--default-cpu-scaling-mode) into a VM without one.
    const stored = await waitForVm(env.custom(), ns, 'replaced', (v) => v.spec.cpuScalingMode !== undefined);
    const target = {
      group: GROUP,
      version: VERSION,
      namespace: ns,
      plural: 'virtualmachines',
      name: 'replaced',
    };
    // What kubectl replace sends: the manifest as written, with the current resourceVersion (taken
    // again when the operator wrote in between: a 409 Conflict).
    const put = async (body: typeof manifest): Promise<typeof manifest> => {
      for (;;) {
        const { resourceVersion } = (await vmApi(env.custom(), ns).get('replaced')).metadata ?? {};
        try {
          return (await env.custom().replaceNamespacedCustomObject({
            ...target,
            body: { ...body, metadata: { ...body.metadata, resourceVersion } },
          })) as typeof manifest;
        } catch (err) {
          if ((err as { code?: number }).code !== 409) throw err;
        }
      }
    };
    const replaced = await put(manifest);
    expect(replaced.spec.cpuScalingMode).toBe(stored.spec.cpuScalingMode);
    // An explicit different value is still a change of the set-once field, refused as upstream does.
    const other = stored.spec.cpuScalingMode === 'QmpScaling' ? 'SysfsScaling' : 'QmpScaling';
    const refused = await put({ ...manifest, spec: { ...manifest.spec, cpuScalingMode: other } }).then(
      () => 'replaced',
      (e: unknown) => String((e as { body?: unknown }).body ?? e),
    );
    expect(refused).toMatch(/spec\.cpuScalingMode is not allowed to be changed once it's set/);
  });
});

describe('VirtualMachine lifecycle with simulated runners', () => {
  it('persists podName, creates exactly one runner pod, goes Running, scales, and restarts a deleted pod', async () => {
    await env.startOperator();
    const ns = await createNamespace(env.core(), 'lifecycle');
    const vms = vmApi(env.custom(), ns);
    await vms.create(vmBody('vm1'));
    const running = await waitForVm(
      env.custom(),
      ns,
      'vm1',
      (vm) => vm.status?.phase === 'Running' && vm.status.cpus !== undefined,
    );
    expect(running.spec.cpuScalingMode).toBe('QmpScaling');
    expect(running.metadata?.finalizers).toContain('vm.neon.tech/finalizer');
    expect(running.status).toMatchObject({
      restartCount: 0,
      cpus: 1,
      memorySize: '1Gi',
      sshSecretName: 'ssh-neonvm-vm1',
    });
    expect(running.status?.conditions?.find((c) => c.type === 'Available')?.status).toBe('True');
    const pods = await runnerPods(env.core(), ns, 'vm1');
    expect(pods.map((p) => p.metadata?.name)).toEqual([running.status?.podName]);
    expect(running.status?.podIP).toBe(pods[0].status?.podIP);
    expect(running.status?.podIP).toMatch(/^10\.2\d\d\./);

    const ssh = await env.core().readNamespacedSecret({ name: 'ssh-neonvm-vm1', namespace: ns });
    expect(ssh.type).toBe('kubernetes.io/ssh-auth');
    expect(ssh.immutable).toBe(true);
    expect(ssh.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'VirtualMachine',
      name: 'vm1',
      controller: true,
    });
    expect(Buffer.from(ssh.data!['ssh-privatekey'], 'base64').toString()).toContain('OPENSSH PRIVATE KEY');

    // Scale: the runner is asked through its API; status follows.
    await env.custom().patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        plural: 'virtualmachines',
        namespace: ns,
        name: 'vm1',
        body: [
          { op: 'replace', path: '/spec/guest/cpus/use', value: 3 },
          { op: 'replace', path: '/spec/guest/memorySlots/use', value: 2 },
        ],
      },
      (await import('@kubernetes/client-node')).setHeaderOptions(
        'Content-Type',
        'application/json-patch+json',
      ),
    );
    const scaled = await waitForVm(
      env.custom(),
      ns,
      'vm1',
      (vm) => vm.status?.phase === 'Running' && vm.status.cpus === 3 && vm.status.memorySize === '2Gi',
    );
    expect(scaled.status?.podName).toBe(running.status?.podName);
    // The pod's usage annotation followed the spec (patched alongside the VM's status write).
    const scaledPod = await env.core().readNamespacedPod({ name: scaled.status!.podName!, namespace: ns });
    expect(JSON.parse(scaledPod.metadata?.annotations?.[ANNOTATION_USAGE] ?? '{}')).toEqual({
      cpu: '3',
      memory: '2Gi',
    });

    // Delete the runner pod: the VM gets a new one, restartCount 1, never two runners at once.
    await env.core().deleteNamespacedPod({ name: running.status!.podName!, namespace: ns });
    const restarted = await waitForVm(
      env.custom(),
      ns,
      'vm1',
      (vm) => vm.status?.phase === 'Running' && vm.status.restartCount === 1,
    );
    expect(restarted.status?.podName).not.toBe(running.status?.podName);
    const after = await pollUntil(
      async () => {
        const list = await runnerPods(env.core(), ns, 'vm1');
        return list.length === 1 ? list : undefined;
      },
      { timeoutMs: 30_000, description: 'one runner pod' },
    );
    expect(after[0].metadata?.name).toBe(restarted.status?.podName);

    // Delete the VM: finalizer removed, pod and secrets garbage-collected.
    await vms.delete('vm1');
    await pollUntil(async () => ((await vms.get('vm1').catch(() => undefined)) ? undefined : true), {
      timeoutMs: 30_000,
      description: 'VM gone',
    });
  });

  it('converges to exactly one runner pod after the operator is killed mid-way and restarted', async () => {
    const first = await env.startOperator();
    const ns = await createNamespace(env.core(), 'crash');
    await vmApi(env.custom(), ns).create(vmBody('vm2'));
    await waitForVm(env.custom(), ns, 'vm2', (vm) => !!vm.status?.podName, 30_000);
    await first.stop();
    await env.startOperator();
    const vm = await waitForVm(env.custom(), ns, 'vm2', (v) => v.status?.phase === 'Running');
    const pods = await runnerPods(env.core(), ns, 'vm2');
    expect(pods.map((p) => p.metadata?.name)).toEqual([vm.status?.podName]);
  });

  it('migrates a running VM to another node and deletes the source pod', async () => {
    await env.startOperator();
    const ns = await createNamespace(env.core(), 'migrate');
    await vmApi(env.custom(), ns).create(vmBody('vm3'));
    const before = await waitForVm(env.custom(), ns, 'vm3', (vm) => vm.status?.phase === 'Running');
    const done = await migrateAndWait(ns, 'vm3');
    expect(done.status?.phase).toBe('Succeeded');
    expect(done.status?.sourcePodName).toBe(before.status?.podName);
    expect(done.status?.targetNode).not.toBe(before.status?.node);
    const after = await waitForVm(
      env.custom(),
      ns,
      'vm3',
      (vm) => vm.status?.phase === 'Running' && vm.status.podName === done.status?.targetPodName,
    );
    expect(after.status?.node).toBe(done.status?.targetNode);
    const pods = await pollUntil(
      async () => {
        const list = await runnerPods(env.core(), ns, 'vm3');
        return list.length === 1 ? list : undefined;
      },
      { timeoutMs: 30_000, description: 'source pod deleted' },
    );
    expect(pods[0].metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'VirtualMachine', controller: true }),
    ]);
  });

  it('a failed migration leaves the VM Running on its source pod and removes the target pod', async () => {
    await env.startOperator();
    const ns = await createNamespace(env.core(), 'migrate-fail');
    const body = vmBody('vm4');
    body.spec.guest.env = [{ name: 'FAKE_MIGRATION', value: 'fail' }];
    await vmApi(env.custom(), ns).create(body);
    const before = await waitForVm(env.custom(), ns, 'vm4', (vm) => vm.status?.phase === 'Running');
    await migrationApi(env.custom(), ns).create({
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'VirtualMachineMigration',
      metadata: { name: 'mig' },
      spec: { vmName: 'vm4' },
    });
    const failed = await pollUntil(
      async () => {
        const m = await migrationApi(env.custom(), ns).get('mig');
        return m.status?.phase === 'Failed' ? m : undefined;
      },
      { timeoutMs: 90_000, description: 'migration Failed' },
    );
    expect(failed.status?.conditions?.find((c) => c.type === 'Degraded')?.reason).toBe('MigrationFailed');
    const vm = await waitForVm(env.custom(), ns, 'vm4', (v) => v.status?.phase === 'Running');
    expect(vm.status?.podName).toBe(before.status?.podName);
    const pods = await pollUntil(
      async () => {
        const list = await runnerPods(env.core(), ns, 'vm4');
        return list.length === 1 ? list : undefined;
      },
      { timeoutMs: 30_000, description: 'target pod deleted' },
    );
    expect(pods[0].metadata?.name).toBe(before.status?.podName);
  });

  it('fails a migration of a VM that does not exist, and the migration can be deleted', async () => {
    await env.startOperator();
    const ns = await createNamespace(env.core(), 'migrate-missing');
    const migrations = migrationApi(env.custom(), ns);
    await migrations.create({
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'VirtualMachineMigration',
      metadata: { name: 'orphan' },
      spec: { vmName: 'ghost' },
    });
    const failed = await pollUntil(
      async () => {
        const m = await migrations.get('orphan');
        return m.status?.phase === 'Failed' ? m : undefined;
      },
      { timeoutMs: 30_000, description: 'migration Failed' },
    );
    expect(failed.status?.conditions?.find((c) => c.type === 'Degraded')?.reason).toBe('VmNotFound');
    await env.custom().deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'virtualmachinemigrations',
      namespace: ns,
      name: 'orphan',
    });
    await pollUntil(
      async () => ((await migrations.get('orphan').catch(() => undefined)) ? undefined : true),
      { timeoutMs: 30_000, description: 'migration deleted' },
    );
  });
});

describe('TLS provisioning without cert-manager', () => {
  it('keeps a VM with spec.tls Pending without a pod and says cert-manager is missing', async () => {
    await env.startOperator();
    const ns = await createNamespace(env.core(), 'tls-no-cm');
    await vmApi(env.custom(), ns).create(
      vmBody('tls', { tls: { certificateIssuer: 'ca', serverName: 'tls.example' } }),
    );
    const vm = await waitForVm(
      env.custom(),
      ns,
      'tls',
      (v) => /cert-manager/.test(v.status?.conditions?.find((c) => c.type === 'Degraded')?.message ?? ''),
      30_000,
    );
    expect(vm.status?.phase).toBe('Pending');
    expect(vm.status?.tlsSecretName).toBe('tls-neonvm-tls');
    expect(await runnerPods(env.core(), ns, 'tls')).toHaveLength(0);
    // The TLS controller owns CertificateReady (server-side apply); the VM controller derives from it.
    const certificateReady = vm.status?.conditions?.find((c) => c.type === 'CertificateReady');
    expect(certificateReady).toMatchObject({ status: 'False', reason: 'TlsProvisioningFailed' });
    const managers = (vm.metadata as { managedFields?: Array<{ manager?: string; subresource?: string }> })
      .managedFields;
    expect(managers?.filter((f) => f.subresource === 'status').map((f) => f.manager)).toEqual(
      expect.arrayContaining(['neonvm-operator', 'neonvm-tls']),
    );

    // Without spec.tls the condition goes (its owner removes it) and the VM gets its runner pod.
    await env.custom().patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        plural: 'virtualmachines',
        namespace: ns,
        name: 'tls',
        body: { spec: { tls: null } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const running = await waitForVm(env.custom(), ns, 'tls', (v) => v.status?.phase === 'Running');
    expect(running.status?.conditions?.map((c) => c.type).sort()).toEqual(['Available', 'Degraded']);
    expect(running.status?.conditions?.find((c) => c.type === 'Degraded')?.status).toBe('False');
  });
});

describe('overlay IPAM', () => {
  it('a missing IPAM NetworkAttachmentDefinition degrades only the VMs that need it, and never blocks their deletion', async () => {
    const custom = env.custom();
    await env.startOperator({ ipamNad: { namespace: OPERATOR_NAMESPACE, name: 'no-such-nad' } });
    const ns = await createNamespace(env.core(), 'ipam-missing');
    const vms = vmApi(custom, ns);
    await vms.create(vmBody('plain'));
    await vms.create(
      vmBody('net', {
        extraNetwork: { enable: true, multusNetwork: 'neonvm-system/neonvm-overlay-for-vms' },
      }),
    );
    await waitForVm(custom, ns, 'plain', (vm) => vm.status?.phase === 'Running');
    const net = await waitForVm(custom, ns, 'net', (vm) =>
      (vm.status?.conditions ?? []).some((c) => c.type === 'Degraded' && c.reason === 'IpamUnavailable'),
    );
    expect(net.status?.conditions?.find((c) => c.type === 'Degraded')?.message).toContain('no-such-nad');
    expect(await runnerPods(env.core(), ns, 'net')).toEqual([]);
    await vms.delete('net');
    await pollUntil(
      () =>
        vms.get('net').then(
          () => undefined,
          () => true,
        ),
      { timeoutMs: 30_000, description: 'VM net deleted' },
    );
  });

  it('gives two VMs distinct overlay IPs from the IPPool and releases them on delete', async () => {
    const custom = env.custom();
    await installMultusNadCrd(env.cluster());
    await pollUntil(
      () =>
        custom
          .createNamespacedCustomObject({
            group: 'k8s.cni.cncf.io',
            version: 'v1',
            plural: 'network-attachment-definitions',
            namespace: OPERATOR_NAMESPACE,
            body: {
              apiVersion: 'k8s.cni.cncf.io/v1',
              kind: 'NetworkAttachmentDefinition',
              metadata: { name: 'neonvm-overlay-ipam' },
              spec: {
                config: JSON.stringify({
                  ipam: { range: '10.100.0.0/16', range_start: '10.100.128.0', network_name: 'neonvm' },
                }),
              },
            },
          })
          .then(() => true),
      { timeoutMs: 20_000, description: 'NAD created' },
    );
    await env.startOperator({ ipamNad: { namespace: OPERATOR_NAMESPACE, name: 'neonvm-overlay-ipam' } });
    const ns = await createNamespace(env.core(), 'ipam');
    const vms = vmApi(custom, ns);
    await vms.create(
      vmBody('a', { extraNetwork: { enable: true, multusNetwork: 'neonvm-system/neonvm-overlay-for-vms' } }),
    );
    await vms.create(
      vmBody('b', { extraNetwork: { enable: true, multusNetwork: 'neonvm-system/neonvm-overlay-for-vms' } }),
    );
    const a = await waitForVm(custom, ns, 'a', (vm) => !!vm.status?.extraNetIP && !!vm.status.podName);
    const b = await waitForVm(custom, ns, 'b', (vm) => !!vm.status?.extraNetIP && !!vm.status.podName);
    expect(new Set([a.status?.extraNetIP, b.status?.extraNetIP])).toEqual(
      new Set(['10.100.128.0', '10.100.128.1']),
    );
    expect(a.status?.extraNetMask).toBe('255.255.0.0');
    const podA = await pollUntil(async () => (await runnerPods(env.core(), ns, 'a'))[0], {
      timeoutMs: 20_000,
      description: 'pod a',
    });
    expect(podA.metadata?.annotations?.['k8s.v1.cni.cncf.io/networks']).toBe(
      'neonvm-system/neonvm-overlay-for-vms@net1',
    );
    const pool = () =>
      custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: 'ippools',
        namespace: OPERATOR_NAMESPACE,
        name: 'neonvm-10.100.0.0-16',
      }) as Promise<{
        spec: { allocations: Record<string, { id: string }> };
      }>;
    expect(
      Object.values((await pool()).spec.allocations)
        .map((x) => x.id)
        .sort(),
    ).toEqual([`${ns}/a`, `${ns}/b`]);
    await vms.delete('a');
    await vms.delete('b');
    await pollUntil(
      async () => (Object.keys((await pool()).spec.allocations).length === 0 ? true : undefined),
      { timeoutMs: 30_000, description: 'IPs released' },
    );
  });
});

describe('leader election', () => {
  it('a second replica takes over within a lease duration plus a retry period after the leader dies', async () => {
    const le = {
      leaseName: `neonvm-test-${Date.now()}`,
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    };
    const leader = await env.startOperator({ identity: 'replica-a', leaderElection: le, webhook: undefined });
    await pollUntil(async () => (leader.isLeader ? true : undefined), {
      timeoutMs: 20_000,
      description: 'a leads',
    });
    const standby = await env.startOperator({
      identity: 'replica-b',
      leaderElection: le,
      webhook: undefined,
    });
    await new Promise((r) => setTimeout(r, 3_000));
    expect(standby.isLeader).toBe(false);
    const killedAt = Date.now();
    await leader.stop({ releaseLease: false });
    await pollUntil(async () => (standby.isLeader ? true : undefined), {
      timeoutMs: 25_000,
      description: 'b leads',
    });
    const takeoverMs = Date.now() - killedAt;
    const lease = await env
      .cluster()
      .kubeConfig.makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: le.leaseName, namespace: OPERATOR_NAMESPACE });
    expect(lease.spec?.holderIdentity).toBe('replica-b');
    console.log(`leader failover: ${takeoverMs} ms`);
    // The standby dates the lease from when it last saw it change (≤ one retry period before the kill),
    // then checks it every retry period: takeover ≤ lease duration + retry period after the kill, plus
    // the API round trips of the acquisition (1 s of slack on a loaded 2-core machine).
    expect(takeoverMs).toBeLessThanOrEqual(le.leaseDurationMs + le.retryPeriodMs + 1_000);
  });
});

// The fault suite's "VM status write lost after a fast migration" with simulated runners: the VM's
// status write that switches podName to the target is refused for a while by an admission webhook,
// while the source runner exits after the handover (its pod Succeeded while the VM still points at it).
it('a refused podName switch after a migration is retried: the VM runs in the target, never restarted', async () => {
  await env.startOperator();
  const dropper = new WriteDropper(env.cluster().kubeConfig);
  await dropper.start();
  try {
    const ns = await createNamespace(env.core(), 'lost-write');
    await vmApi(env.custom(), ns).create(vmBody('vm1'));
    const before = await waitForVm(env.custom(), ns, 'vm1', (vm) => vm.status?.phase === 'Running');
    const windowMs = 20_000;
    const rule = dropper.drop(
      'VM podName switch',
      (w) =>
        w.resource === 'virtualmachines/status' &&
        w.namespace === ns &&
        (w.object?.status?.podName ?? '') !== (w.oldObject?.status?.podName ?? ''),
      windowMs,
    );
    const done = await migrateAndWait(ns, 'vm1');
    expect(done.status?.phase).toBe('Succeeded');
    const target = done.status?.targetPodName;
    const vm = await waitForVm(
      env.custom(),
      ns,
      'vm1',
      (v) => v.status?.phase === 'Running' && v.status.podName === target,
      120_000,
    );
    expect(rule.refused.length).toBeGreaterThan(0);
    // The switch went through only after the window: the VM waited, it did not give up on the guest.
    expect(rule.refused[rule.refused.length - 1] - rule.refused[0]).toBeLessThanOrEqual(windowMs);
    expect(vm.status?.restartCount ?? 0).toBe(before.status?.restartCount ?? 0);
    const pods = await pollUntil(
      async () => {
        const live = (await runnerPods(env.core(), ns, 'vm1')).filter(
          (p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed',
        );
        return live.length === 1 ? live : undefined;
      },
      { timeoutMs: 60_000, description: 'only the target pod live' },
    );
    expect(pods.map((p) => p.metadata?.name)).toEqual([target]);
  } finally {
    await dropper.stop();
  }
});
