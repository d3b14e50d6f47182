/**
 * The whole path of a CPU hot-plug on the local stack — a JSON patch of `spec.guest.cpus.use` through
 * the API server, the operator's reconcile, the runner API, QMP and the guest onlining the CPU — until
 * the guest reports the new online count, against a raw QMP `device_add` on a bare QEMU of the same
 * guest in the same run (target: ≤ raw + 300 ms). The patch is sent in-process (no kubectl start-up)
 * and the guest is polled every 20 ms, so the row measures NeonVM, not the measuring.
 */
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../crds';
import { startNeonVmStack, SeedFlow } from '../local-stack';
import { accelVerdict } from '../runner/lifecycle';
import { ensureGuestArtifacts } from '../guest';
import { bootGuestVm, waitGuestReady } from '../runner/testing/guest-vm';
import { cpuDeviceId } from '../runner/vm-control';
import { pollUntil } from '../host';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchRow } from './table';

const ROUNDS = 3;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Raw baseline: one QMP device_add on a bare QEMU until the guest agent reports 2 CPUs online. */
async function rawPlugMs(): Promise<number> {
  const guest = await ensureGuestArtifacts({});
  const accel = (await accelVerdict(guest.kernel)).accel;
  const dir = mkdtempSync(join(tmpdir(), 'neonvm-bench-raw-'));
  const spec = {
    guest: { rootDisk: { image: 'builtin' }, cpus: { min: 1, max: 3, use: 1 } },
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
    return Date.now() - t0;
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
    const patchCpus = (use: number) =>
      custom.patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          namespace: 'default',
          plural: 'virtualmachines',
          name: 'example',
          body: [{ op: 'replace', path: '/spec/guest/cpus/use', value: use }],
        },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      );
    const untilOnline = (n: number) =>
      pollUntil(async () => ((await flow.guestView('example')).onlineCpus === n ? true : undefined), {
        description: `${n} CPUs online in the guest`,
        timeoutMs: 60_000,
        intervalMs: 20,
      });
    await flow.apply('vm-hotplug.yaml');
    await flow.waitForPhase('example', 'Running');
    const plug: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const t0 = Date.now();
      await patchCpus(2);
      await untilOnline(2);
      plug.push(Date.now() - t0);
      await patchCpus(1);
      await untilOnline(1);
    }
    const value = median(plug);
    return [
      {
        name: `patch cpus.use 1→2 → guest sees 2 CPUs (median of ${ROUNDS}; first is a device_add, then re-onlining)`,
        value,
        unit: 'ms',
        baseline: raw,
        baselineName: 'raw QMP device_add → guest online',
        ratio: value / raw,
        target: '≤ raw + 300 ms',
      },
      {
        name: 'the same, first patch only (a real device_add)',
        value: plug[0],
        unit: 'ms',
        baseline: raw,
        baselineName: 'raw QMP',
        ratio: plug[0] / raw,
      },
    ];
  } finally {
    await stack.stop();
  }
}
