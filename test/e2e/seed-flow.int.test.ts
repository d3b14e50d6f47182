/**
 * The seed README's flows end to end on the local stack: real kube-apiserver + node agent + operator
 * (HTTPS webhooks) + runner + QEMU booting the Debian guest. Slow (TCG), so one VM carries the story.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import { startNeonVmStack, type NeonVmStack, SeedFlow } from '../../local-stack';
import { pollUntil } from '../../host';

jest.setTimeout(600_000);

let stack: NeonVmStack;
let flow: SeedFlow;
const lines: string[] = [];

beforeAll(async () => {
  stack = await startNeonVmStack({ nodes: 3, progress: (l) => lines.push(l) });
  flow = new SeedFlow(stack, (l) => lines.push(l));
}, 900_000);

afterAll(async () => {
  await stack?.stop();
}, 120_000);

afterEach(() => {
  // Keep the transcript of a failing step visible in the jest output.
  if (process.env.NEONVM_E2E_VERBOSE) console.log(lines.join('\n'));
  lines.length = 0;
});

describe('the seed flows', () => {
  it('apply → Running, with upstream printer columns (Restarts filled)', async () => {
    await flow.apply('vm-hotplug.yaml');
    const vm = await flow.waitForPhase('example', 'Running');
    expect(vm.status?.podName).toMatch(/^example-[a-z0-9]{5}$/);
    expect(vm.status?.sshSecretName).toBe('ssh-neonvm-example');
    const table = await stack.kubectl('get', 'neonvm', 'example');
    const [header, row] = table.trim().split('\n');
    expect(header.split(/\s+/)).toEqual([
      'NAME',
      'CPUS',
      'MEMORY',
      'POD',
      'EXTRAIP',
      'STATUS',
      'RESTARTS',
      'AGE',
    ]);
    expect(row.split(/\s+/).slice(0, 6)).toEqual([
      'example',
      '1',
      '512Mi',
      vm.status!.podName!,
      'Running',
      '0',
    ]);
    const guest = await flow.guestView('example');
    expect(guest).toEqual({ onlineCpus: 1, memoryBytes: 512 * 2 ** 20 });
  });

  it('patch cpus.use → the guest onlines and offlines CPUs (1→3→2)', async () => {
    await flow.scaleCpus('example', 3);
    await flow.scaleCpus('example', 2);
    expect((await flow.guestView('example')).onlineCpus).toBe(2);
    expect((await flow.vm('example')).status?.cpus).toBe(2);
  });

  it('patch memorySlots.use → the guest memory changes (1→3→2 slots)', async () => {
    await flow.scaleMemory('example', 3);
    await flow.scaleMemory('example', 2);
    expect((await flow.vm('example')).status?.memorySize).toBe('1Gi');
  });

  it('live-migrates to another node: Succeeded with status.info, guest state carried over', async () => {
    const before = await flow.vm('example');
    const m = await flow.migrate('vm-example-migration.yaml', 'example');
    expect(m.status?.info).toMatchObject({ status: 'completed' });
    expect(m.status?.info?.totalTimeMs).toBeGreaterThan(0);
    expect(m.status?.info?.downtimeMs).toBeGreaterThanOrEqual(0);
    expect(m.status?.info?.ram?.transferred).toBeGreaterThan(0);
    const after = await flow.waitForPhase('example', 'Running');
    expect(after.status?.node).not.toBe(before.status?.node);
    expect(after.status?.podName).toBe(m.status?.targetPodName);
    // The guest kept its state: still 2 CPUs online (the target booted with 3 plugged) and 1 GiB.
    // (read once the target runner's guest-agent call answers: one can time out right after the switch)
    const view = await pollUntil(
      async () => {
        const v = await flow.guestView('example');
        return v.onlineCpus === undefined ? undefined : v;
      },
      { description: 'the guest view through the target runner', timeoutMs: 180_000, intervalMs: 500 },
    );
    expect(view).toEqual({ onlineCpus: 2, memoryBytes: 2 ** 30 });
    const core = stack.cluster.kubeConfig.makeApiClient(CoreV1Api);
    // Encrypted by default: both runner pods mount the VM's certificate and the stream was TLS.
    const target = await core.readNamespacedPod({ name: after.status!.podName!, namespace: 'default' });
    expect(target.spec?.volumes?.map((v) => v.name)).toContain('migration-tls');
    const incoming = (await stack.kubectl('logs', after.status!.podName!))
      .split('\n')
      .find((l) => l.includes('"msg":"waiting for the incoming migration"'));
    expect(incoming).toContain('"tls":true');
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

  it('a deleted runner pod is replaced and restartCount becomes 1', async () => {
    const vm = await flow.vm('example');
    await stack.kubectl('delete', 'pod', vm.status!.podName!, '--wait=false');
    const restarted = await pollUntil(
      async () => {
        const v = await flow.vm('example');
        return v.status?.phase === 'Running' && v.status.podName !== vm.status?.podName ? v : undefined;
      },
      { description: 'the VM to run again in a new pod', timeoutMs: 300_000, intervalMs: 500 },
    );
    expect(restarted.status?.restartCount).toBe(1);
  });

  it('delete → runner pod and owned secrets are gone', async () => {
    await stack.kubectl('delete', 'neonvm', 'example', '--timeout=120s');
    const core = stack.cluster.kubeConfig.makeApiClient(CoreV1Api);
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
      {
        description: 'pods and secrets of the VM to be garbage-collected',
        timeoutMs: 120_000,
        intervalMs: 500,
      },
    );
  });
});
