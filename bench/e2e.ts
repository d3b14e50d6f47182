/**
 * The whole path of a hot-plug on the local stack — a JSON patch of `spec.guest.cpus.use` or
 * `spec.guest.memorySlots.use` through the API server, the operator's reconcile, the runner API, QMP
 * and the guest — until the guest has the change, against the raw QMP command on a bare QEMU of the same
 * guest in the same run (target: the first plug ≤ raw + 150 ms). CPUs: the guest reports the new online
 * count; memory: QEMU reports the virtio-mem blocks plugged, which the guest driver does as it accepts
 * them. The patch is sent in-process (no kubectl start-up) and the guest is polled every 20 ms, so the
 * rows measure NeonVM, not the measuring.
 */
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../crds';
import { startNeonVmStack, SeedFlow, type GuestView } from '../local-stack';
import { accelVerdict } from '../runner/lifecycle';
import { ensureGuestArtifacts } from '../guest';
import { bootGuestVm, waitGuestReady } from '../runner/testing/guest-vm';
import { cpuDeviceId } from '../runner/vm-control';
import { VIRTIO_MEM_ID } from '../runner/plan';
import { pollUntil } from '../host';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from './percentile';
import type { BenchRow } from './table';

const ROUNDS = 3;

/** The example VM's slot size (examples/vm-hotplug.yaml), for the raw baseline's memory plug. */
const SLOT_BYTES = 512 * 2 ** 20;

interface MemorySizeSummary {
  'base-memory': number;
  'plugged-memory'?: number;
}

/**
 * Raw baselines on a bare QEMU of the same spec: one QMP device_add until the guest agent reports 2 CPUs
 * online, and one `qom-set requested-size` of a slot until QEMU reports it plugged.
 */
async function rawPlugMs(): Promise<{ cpu: number; memory: number }> {
  const guest = await ensureGuestArtifacts({});
  const accel = (await accelVerdict(guest.kernel)).accel;
  const dir = mkdtempSync(join(tmpdir(), 'neonvm-bench-raw-'));
  const spec = {
    guest: {
      rootDisk: { image: 'builtin' },
      cpus: { min: 1, max: 3, use: 1 },
      memorySlotSize: '512Mi',
      memorySlots: { min: 1, max: 3, use: 1 },
    },
    enableSSH: false,
  };
  const vm = await bootGuestVm({ dir, guest, spec, name: 'raw-e2e', accel });
  try {
    await waitGuestReady(vm);
    const t0 = Date.now();
    await vm.qmp.execute('device_add', {
      id: cpuDeviceId(1),
      driver: 'max-x86_64-cpu',
      'socket-id': 0,
      'core-id': 1,
      'thread-id': 0,
    });
    await pollUntil(async () => ((await vm.agent.getCpuMilli()) === 2000 ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 10,
      description: 'raw CPU plug',
    });
    const cpu = Date.now() - t0;
    const t1 = Date.now();
    await vm.qmp.execute('qom-set', { path: VIRTIO_MEM_ID, property: 'requested-size', value: SLOT_BYTES });
    await pollUntil(
      async () => {
        const s = await vm.qmp.execute<MemorySizeSummary>('query-memory-size-summary');
        return (s['plugged-memory'] ?? 0) === SLOT_BYTES ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 10, description: 'raw memory plug' },
    );
    return { cpu, memory: Date.now() - t1 };
  } finally {
    await vm.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function benchE2e(): Promise<BenchRow[]> {
  const raw = await rawPlugMs();
  const stack = await startNeonVmStack({ nodes: 2, progress: () => undefined });
  try {
    const flow = new SeedFlow(stack, () => undefined);
    const custom = stack.cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    const patch = (path: string, value: number) =>
      custom.patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          namespace: 'default',
          plural: 'virtualmachines',
          name: 'example',
          body: [{ op: 'replace', path, value }],
        },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      );
    const until = (description: string, seen: (v: GuestView) => boolean) =>
      pollUntil(async () => (seen(await flow.guestView('example')) ? true : undefined), {
        description,
        timeoutMs: 60_000,
        intervalMs: 20,
      });
    // Each series starts on a settled VM, as the raw baseline does (a fresh guest is still starting
    // services; a scale-down just seen in the guest may still have the operator writing status).
    const settle = () => new Promise((r) => setTimeout(r, 3_000));
    await flow.apply('vm-hotplug.yaml');
    await flow.waitForPhase('example', 'Running');
    await settle();
    const plug: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const t0 = Date.now();
      await patch('/spec/guest/cpus/use', 2);
      await until('2 CPUs online in the guest', (v) => v.onlineCpus === 2);
      plug.push(Date.now() - t0);
      await patch('/spec/guest/cpus/use', 1);
      await until('1 CPU online in the guest', (v) => v.onlineCpus === 1);
    }
    await settle();
    const base = (await flow.guestView('example')).memoryBytes;
    const grow: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const t0 = Date.now();
      await patch('/spec/guest/memorySlots/use', 2);
      await until('a memory slot plugged', (v) => v.memoryBytes === base + SLOT_BYTES);
      grow.push(Date.now() - t0);
      await patch('/spec/guest/memorySlots/use', 1);
      await until('the memory slot unplugged', (v) => v.memoryBytes === base);
    }
    const row = (name: string, value: number, baseline: number, baselineName: string, target?: string) => ({
      name,
      value,
      unit: 'ms',
      baseline,
      baselineName,
      ratio: value / baseline,
      ...(target ? { target } : {}),
    });
    return [
      row(
        'patch cpus.use 1→2 → guest sees 2 CPUs, first patch (a real device_add)',
        plug[0],
        raw.cpu,
        'raw QMP device_add → guest online',
        '≤ raw + 150 ms',
      ),
      row(
        `the same, median of ${ROUNDS} (after the first: re-onlining the plugged vCPU)`,
        median(plug),
        raw.cpu,
        'raw QMP device_add',
      ),
      row(
        'patch memorySlots.use 1→2 → a 512 MiB slot plugged, first patch',
        grow[0],
        raw.memory,
        'raw QMP qom-set → plugged',
        '≤ raw + 150 ms',
      ),
      row(`the same, median of ${ROUNDS}`, median(grow), raw.memory, 'raw QMP qom-set'),
    ];
  } finally {
    await stack.stop();
  }
}
