/**
 * The whole path of a hot-plug on the local stack — a JSON patch of `spec.guest.cpus.use` or
 * `spec.guest.memorySlots.use` through the API server, the operator's reconcile, the runner API, QMP
 * and the guest — until the guest has the change, against the raw QMP command on a bare QEMU of the same
 * guest in the same run (target: the first plug ≤ raw + 150 ms). CPUs: the guest reports the new online
 * count; memory: QEMU reports the virtio-mem blocks plugged, which the guest driver does as it accepts
 * them.
 *
 * A first plug is what a user sees first, and it happens once per VM (the runner never unplugs: a
 * later scale-up re-onlines the vCPU), so one VM gives one sample — and under TCG the guest's own
 * onlining of a new CPU takes 250-550 ms from one plug to the next, more than the target. So each
 * round boots a fresh VM on the stack and a fresh bare QEMU of the same guest (same kernel, root disk,
 * guest agent, spec), settles both, plugs both (alternating which goes first) and removes both; the
 * rows are medians over the rounds, and the paired difference per round is a row of its own. The
 * guest agent onlines a new CPU in both: on its uevent in the bare guest (no target was ever set), on
 * the runner's `PUT /cpu` in the VM. Both sides are polled every 10 ms through one cached client (the
 * runner's `/status` asks the same guest agent the bare side asks directly), the patch is sent
 * in-process (no kubectl start-up), so the rows measure NeonVM, not the measuring.
 */
import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { GROUP, VERSION, type VirtualMachine } from '../crds';
import { ensureDebianImage } from '../image/debian';
import { isNotFound } from '../kube';
import { startNeonVmStack } from '../local-stack';
import { accelVerdict } from '../runner/lifecycle';
import { ensureGuestArtifacts, type GuestArtifacts } from '../guest';
import { bootGuestVm, waitGuestReady, type GuestVm } from '../runner/testing/guest-vm';
import { RunnerClient } from '../runner/api';
import { cpuDeviceId } from '../runner/vm-control';
import { VIRTIO_MEM_ID } from '../runner/plan';
import { packagePath, pollUntil, sleep } from '../host';
import { median } from './percentile';
import type { BenchRow } from './table';

/** Fresh VMs per side: first plugs. Odd, so each median is one sample. */
const FIRST_PLUGS = 5;
/** Repeats on the last VM: re-onlining the plugged vCPU, memory plugs after the first. */
const REPEATS = 3;
const POLL_MS = 10;
/** A freshly booted guest is still starting services; both sides wait this long before plugging. */
const SETTLE_MS = 3_000;
const NAMESPACE = 'default';

const EXAMPLE = packagePath(__dirname, 'examples/vm-hotplug.yaml');
/** The example VM's slot size, for the raw baseline's memory plug. */
const SLOT_BYTES = 512 * 2 ** 20;

interface MemorySizeSummary {
  'base-memory': number;
  'plugged-memory'?: number;
}

/** One side's plugs: each returns ms from the command to the guest having the change. */
interface Side {
  plugCpu(): Promise<number>;
  plugMemory(): Promise<number>;
}

/** A VM on the stack: its plugs are JSON patches, and it can scale back and be deleted. */
interface StackVm extends Side {
  unplugCpu(): Promise<number>;
  unplugMemory(): Promise<number>;
  remove(): Promise<void>;
}

/** The bare QEMU: the spec of examples/vm-hotplug.yaml booted through the runner's planners. */
async function bootRaw(
  guest: GuestArtifacts,
  rootDisk: string,
  accel: 'kvm' | 'tcg',
  spec: VirtualMachine['spec'],
  name: string,
): Promise<GuestVm & Side> {
  const dir = mkdtempSync(join(tmpdir(), 'neonvm-bench-raw-'));
  const vm = await bootGuestVm({ dir, guest, rootDisk, spec: { ...spec, enableSSH: false }, name, accel });
  try {
    await waitGuestReady(vm);
  } catch (e) {
    await vm.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    ...vm,
    stop: async () => {
      await vm.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    plugCpu: async () => {
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
        intervalMs: POLL_MS,
        description: 'raw CPU plug',
      });
      return Date.now() - t0;
    },
    plugMemory: async () => {
      const t0 = Date.now();
      await vm.qmp.execute('qom-set', { path: VIRTIO_MEM_ID, property: 'requested-size', value: SLOT_BYTES });
      await pollUntil(
        async () => {
          const s = await vm.qmp.execute<MemorySizeSummary>('query-memory-size-summary');
          return (s['plugged-memory'] ?? 0) === SLOT_BYTES ? true : undefined;
        },
        { timeoutMs: 30_000, intervalMs: POLL_MS, description: 'raw memory plug' },
      );
      return Date.now() - t0;
    },
  };
}

export default async function benchE2e(): Promise<BenchRow[]> {
  const guest = await ensureGuestArtifacts({});
  const accel = (await accelVerdict(guest.kernel)).accel;
  const example = parse(readFileSync(EXAMPLE, 'utf8')) as VirtualMachine;
  // The bare QEMU boots the disk the stack's VMs boot (the image store's neondatabase/vm-debian:11).
  const debian = await ensureDebianImage({ progress: () => undefined });
  const stack = await startNeonVmStack({ nodes: 2, progress: () => undefined });
  try {
    const custom = stack.cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    const core = stack.cluster.kubeConfig.makeApiClient(CoreV1Api);
    const ref = (name: string) => ({
      group: GROUP,
      version: VERSION,
      namespace: NAMESPACE,
      plural: 'virtualmachines',
      name,
    });
    const getVm = async (name: string) =>
      (await custom.getNamespacedCustomObject(ref(name))) as VirtualMachine;

    /** A VM of examples/vm-hotplug.yaml named `name`, Running; its guest is seen through its runner. */
    const startVm = async (name: string): Promise<StackVm> => {
      await custom.createNamespacedCustomObject({
        ...ref(name),
        body: { ...example, metadata: { name, namespace: NAMESPACE } },
      });
      const vm = await pollUntil(
        async () => {
          const v = await getVm(name);
          return v.status?.phase === 'Running' ? v : undefined;
        },
        { description: `VirtualMachine ${name} to be Running`, timeoutMs: 300_000, intervalMs: 200 },
      );
      const secret = await core.readNamespacedSecret({
        name: `runner-token-neonvm-${name}`,
        namespace: NAMESPACE,
      });
      const runner = new RunnerClient({
        baseUrl: `http://${vm.status?.podIP}:${vm.spec.runnerPort ?? 25183}`,
        token: Buffer.from(secret.data?.token ?? '', 'base64').toString('utf8'),
        timeoutMs: 10_000,
      });
      const patch = (path: string, value: number) =>
        custom.patchNamespacedCustomObject(
          { ...ref(name), body: [{ op: 'replace', path, value }] },
          setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
        );
      const until = (description: string, seen: (s: { online?: number; bytes: number }) => boolean) =>
        pollUntil(
          async () => {
            const s = await runner.status();
            return seen({ online: s.cpus.online, bytes: s.memory.sizeBytes }) ? true : undefined;
          },
          { description: `${name}: ${description}`, timeoutMs: 60_000, intervalMs: POLL_MS },
        );
      const base = (await runner.status()).memory.sizeBytes;
      const timed = async (
        path: string,
        value: number,
        description: string,
        seen: Parameters<typeof until>[1],
      ) => {
        const t0 = Date.now();
        await patch(path, value);
        await until(description, seen);
        return Date.now() - t0;
      };
      return {
        plugCpu: () => timed('/spec/guest/cpus/use', 2, '2 CPUs online', (s) => s.online === 2),
        plugMemory: () =>
          timed('/spec/guest/memorySlots/use', 2, 'a slot plugged', (s) => s.bytes === base + SLOT_BYTES),
        unplugCpu: () => timed('/spec/guest/cpus/use', 1, '1 CPU online', (s) => s.online === 1),
        unplugMemory: () =>
          timed('/spec/guest/memorySlots/use', 1, 'the slot unplugged', (s) => s.bytes === base),
        remove: async () => {
          await custom.deleteNamespacedCustomObject(ref(name));
          await pollUntil(
            async () => {
              try {
                await getVm(name);
                return undefined;
              } catch (e) {
                if (isNotFound(e)) return true;
                throw e;
              }
            },
            { description: `VirtualMachine ${name} to be gone`, timeoutMs: 120_000, intervalMs: 200 },
          );
        },
      };
    };

    const cpu = { e2e: [] as number[], raw: [] as number[] };
    const memory = { e2e: [] as number[], raw: [] as number[] };
    let last: StackVm | undefined;
    for (let i = 0; i < FIRST_PLUGS; i++) {
      const [raw, vm] = await Promise.all([
        bootRaw(guest, debian.disk, accel, example.spec, `raw-plug-${i}`),
        startVm(`plug-${i}`),
      ]);
      try {
        await sleep(SETTLE_MS);
        // Alternate which side goes first, so a drift of the machine's load over a round evens out.
        const sides =
          i % 2 === 0
            ? ([
                ['raw', raw],
                ['e2e', vm],
              ] as const)
            : ([
                ['e2e', vm],
                ['raw', raw],
              ] as const);
        for (const [which, side] of sides) {
          cpu[which].push(await side.plugCpu());
          memory[which].push(await side.plugMemory());
        }
      } finally {
        await raw.stop();
      }
      if (i < FIRST_PLUGS - 1) await vm.remove();
      else last = vm;
    }
    process.stderr.write(
      `e2e first plugs (ms): CPU ${cpu.e2e.join(', ')} vs raw ${cpu.raw.join(', ')}; ` +
        `memory ${memory.e2e.join(', ')} vs raw ${memory.raw.join(', ')}\n`,
    );

    // Later scale-ups of the last VM: the vCPU stays plugged (offline), memory is plugged again.
    if (!last) throw new Error('no VM left for the repeats');
    const extra = last;
    const reonline: number[] = [];
    const regrow: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      await extra.unplugCpu();
      await sleep(SETTLE_MS / 3);
      reonline.push(await extra.plugCpu());
      await extra.unplugMemory();
      await sleep(SETTLE_MS / 3);
      regrow.push(await extra.plugMemory());
    }

    const diff = (s: { e2e: number[]; raw: number[] }) => median(s.e2e.map((v, i) => v - s.raw[i]));
    const row = (name: string, value: number, baseline: number, baselineName: string, target?: string) => ({
      name,
      value,
      unit: 'ms',
      baseline,
      baselineName,
      ratio: value / baseline,
      ...(target ? { target } : {}),
    });
    const rawCpu = median(cpu.raw);
    const rawMemory = median(memory.raw);
    return [
      row(
        `patch cpus.use 1→2 → guest sees 2 CPUs, first plug (a real device_add), median of ${FIRST_PLUGS} fresh VMs`,
        median(cpu.e2e),
        rawCpu,
        `raw QMP device_add → guest online, same guest, median of ${FIRST_PLUGS}`,
        '≤ raw + 150 ms',
      ),
      {
        name: 'the same, e2e − raw paired per round, median',
        value: diff(cpu),
        unit: 'ms',
        target: '≤ 150 ms',
      },
      row(
        `patch cpus.use 1→2 again (vCPU plugged, offline: re-onlining), median of ${REPEATS}`,
        median(reonline),
        rawCpu,
        'raw QMP device_add → guest online',
      ),
      row(
        `patch memorySlots.use 1→2 → a 512 MiB slot plugged, first plug, median of ${FIRST_PLUGS} fresh VMs`,
        median(memory.e2e),
        rawMemory,
        `raw QMP qom-set → plugged, same guest, median of ${FIRST_PLUGS}`,
        '≤ raw + 150 ms',
      ),
      {
        name: 'the same, e2e − raw paired per round, median',
        value: diff(memory),
        unit: 'ms',
        target: '≤ 150 ms',
      },
      row(
        `patch memorySlots.use 1→2 again, median of ${REPEATS}`,
        median(regrow),
        rawMemory,
        'raw QMP qom-set',
      ),
    ];
  } finally {
    await stack.stop();
  }
}
