/**
 * The seed README's flows on the local stack, with progress lines: apply the VMs, wait for Running,
 * `kubectl get neonvm`, hot-plug CPUs and memory (and read the guest's own view through the runner
 * API), live-migrate to another node and show `status.info`. The same steps back the end-to-end test.
 */
import { dirname, resolve } from 'node:path';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import {
  GROUP,
  VERSION,
  parseMilliCpu,
  quantityBytes,
  type VirtualMachine,
  type VirtualMachineMigration,
} from '../crds';
import { RunnerClient } from '../runner/api';
import type { NeonVmStack } from './neonvm-stack';
import { packagePath, PollAborted, pollUntil } from '../host';

// (a lib/examples directory of compiled code exists too: look for a YAML file to find the real one)
const EXAMPLES = dirname(packagePath(__dirname, 'examples/vm-debian.yaml'));

export interface GuestView {
  readonly onlineCpus: number | undefined;
  readonly memoryBytes: number;
}

export class SeedFlow {
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;

  constructor(
    private readonly stack: NeonVmStack,
    private readonly print: (line: string) => void = (l) => console.log(l),
    readonly namespace = 'default',
  ) {
    this.custom = stack.cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    this.core = stack.cluster.kubeConfig.makeApiClient(CoreV1Api);
  }

  async apply(file: string): Promise<void> {
    this.print(`$ kubectl apply -f examples/${file}`);
    this.print(
      (await this.stack.kubectl('apply', '-n', this.namespace, '-f', resolve(EXAMPLES, file))).trimEnd(),
    );
  }

  async vm(name: string): Promise<VirtualMachine> {
    return (await this.custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: this.namespace,
      plural: 'virtualmachines',
      name,
    })) as VirtualMachine;
  }

  async migration(name: string): Promise<VirtualMachineMigration> {
    return (await this.custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: this.namespace,
      plural: 'virtualmachinemigrations',
      name,
    })) as VirtualMachineMigration;
  }

  async waitForPhase(name: string, phase: string, timeoutMs = 300_000): Promise<VirtualMachine> {
    const t0 = Date.now();
    const vm = await pollUntil(
      async () => {
        const v = await this.vm(name);
        return v.status?.phase === phase ? v : undefined;
      },
      { description: `VirtualMachine ${name} to be ${phase}`, timeoutMs, intervalMs: 500 },
    );
    this.print(
      `VirtualMachine ${name} is ${phase} after ${((Date.now() - t0) / 1000).toFixed(1)} s (pod ${vm.status?.podName} on ${vm.status?.node})`,
    );
    return vm;
  }

  /** `kubectl exec <runner pod> -- ssh guest-vm <command>`, retried while sshd starts. */
  async inGuest(name: string, command: string): Promise<string> {
    const pod = (await this.vm(name)).status?.podName ?? '';
    this.print(`$ kubectl exec ${pod} -- ssh guest-vm ${command}`);
    const out = await pollUntil(
      async () =>
        (await this.stack.kubectl('exec', pod, '-n', this.namespace, '--', 'ssh', 'guest-vm', command)) ||
        undefined,
      { description: `ssh into the guest of ${name}`, timeoutMs: 120_000, intervalMs: 500 },
    );
    this.print(out.trimEnd());
    return out;
  }

  async get(...args: string[]): Promise<void> {
    this.print(`$ kubectl get ${args.join(' ')}`);
    this.print((await this.stack.kubectl('get', '-n', this.namespace, ...args)).trimEnd());
  }

  /** What the guest itself reports, through the VM's runner (online CPUs from the guest agent). */
  async guestView(name: string): Promise<GuestView> {
    const vm = await this.vm(name);
    const secret = await this.core.readNamespacedSecret({
      name: `runner-token-neonvm-${name}`,
      namespace: this.namespace,
    });
    const token = Buffer.from(secret.data?.token ?? '', 'base64').toString('utf8');
    const client = new RunnerClient({
      baseUrl: `http://${vm.status?.podIP}:${vm.spec.runnerPort ?? 25183}`,
      token,
      timeoutMs: 10_000,
    });
    const status = await client.status();
    return { onlineCpus: status.cpus.online, memoryBytes: status.memory.sizeBytes };
  }

  private async patch(name: string, path: string, value: number): Promise<void> {
    const body = JSON.stringify([{ op: 'replace', path, value }]);
    this.print(`$ kubectl patch neonvm ${name} --type=json -p='${body}'`);
    await this.stack.kubectl('patch', 'neonvm', name, '-n', this.namespace, '--type=json', `-p=${body}`);
  }

  async scaleCpus(name: string, use: number): Promise<number> {
    const t0 = Date.now();
    await this.patch(name, '/spec/guest/cpus/use', use);
    await pollUntil(
      async () => {
        const vm = await this.vm(name);
        if (
          vm.status?.phase !== 'Running' ||
          vm.status.cpus === undefined ||
          parseMilliCpu(vm.status.cpus) !== use * 1000
        )
          return undefined;
        const view = await this.guestView(name);
        return view.onlineCpus === use ? view : undefined;
      },
      { description: `guest of ${name} to have ${use} CPUs online`, timeoutMs: 180_000, intervalMs: 500 },
    );
    const ms = Date.now() - t0;
    this.print(`guest sees ${use} CPUs online ${ms} ms after the patch (status.cpus = ${use})`);
    return ms;
  }

  async scaleMemory(name: string, slots: number): Promise<number> {
    const t0 = Date.now();
    await this.patch(name, '/spec/guest/memorySlots/use', slots);
    const vm0 = await this.vm(name);
    const want = Number(quantityBytes(vm0.spec.guest.memorySlotSize ?? '1Gi')) * slots;
    const view = await pollUntil(
      async () => {
        const vm = await this.vm(name);
        if (
          vm.status?.phase !== 'Running' ||
          vm.status.memorySize === undefined ||
          Number(quantityBytes(vm.status.memorySize)) !== want
        )
          return undefined;
        const v = await this.guestView(name);
        return v.memoryBytes === want ? v : undefined;
      },
      { description: `guest of ${name} to have ${want} bytes`, timeoutMs: 180_000, intervalMs: 500 },
    );
    const ms = Date.now() - t0;
    this.print(
      `guest memory is ${(view.memoryBytes / 2 ** 20).toFixed(0)} MiB ${ms} ms after the patch (status.memorySize = ${(await this.vm(name)).status?.memorySize})`,
    );
    return ms;
  }

  async migrate(file: string, name: string): Promise<VirtualMachineMigration> {
    await this.apply(file);
    const t0 = Date.now();
    const m = await pollUntil(
      async () => {
        const mm = await this.migration(name);
        if (mm.status?.phase === 'Failed')
          throw new PollAborted(`migration failed: ${JSON.stringify(mm.status.conditions)}`);
        return mm.status?.phase === 'Succeeded' ? mm : undefined;
      },
      { description: `migration ${name} to finish`, timeoutMs: 300_000, intervalMs: 500 },
    );
    this.print(`migration ${name} Succeeded after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return m;
  }
}

/** What an operator of the demo needs to see when a step fails: objects, pods, runner logs, events. */
export async function dumpDiagnostics(
  stack: NeonVmStack,
  print: (line: string) => void,
  namespace = 'default',
): Promise<void> {
  const tryRun = async (title: string, ...args: string[]) => {
    print(`--- ${title}`);
    try {
      print((await stack.kubectl(...args)).trimEnd());
    } catch (err) {
      print(`(failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
    }
  };
  await tryRun('VirtualMachines', 'get', 'neonvm', '-n', namespace, '-oyaml');
  await tryRun('migrations', 'get', 'neonvmm', '-n', namespace, '-owide');
  await tryRun('pods', 'get', 'pods', '-n', namespace, '-owide');
  await tryRun('events', 'get', 'events', '-n', namespace, '--sort-by=.lastTimestamp');
  const pods = (
    await stack
      .kubectl('get', 'pods', '-n', namespace, '-o', 'jsonpath={.items[*].metadata.name}')
      .catch(() => '')
  )
    .split(/\s+/)
    .filter(Boolean);
  for (const pod of pods)
    await tryRun(
      `logs of ${pod} (last 40 lines)`,
      'logs',
      '-n',
      namespace,
      pod,
      '--all-containers',
      '--tail=40',
    );
}

/** `npm start`'s storyline. */
export async function runSeedFlow(stack: NeonVmStack, print: (line: string) => void): Promise<void> {
  const flow = new SeedFlow(stack, print);
  print('\n== Run virtual machine (the seed README)');
  await flow.apply('vm-debian.yaml');
  const demo = await flow.waitForPhase('vm-debian', 'Running');
  const real = stack.realNodes?.find((n) => n.name === demo.status?.node);
  print(
    real
      ? `vm-debian runs on ${real.name}, a real node (kubelet + containerd + runc, node address ${real.address})`
      : `vm-debian runs on ${demo.status?.node}, a node-agent node`,
  );
  await flow.get('neonvm');

  print('\n== A VM with room to scale (examples/vm-hotplug.yaml)');
  await flow.apply('vm-hotplug.yaml');
  await flow.waitForPhase('example', 'Running');
  await flow.get('neonvm', '-owide');
  const before = await flow.guestView('example');
  print(`guest view: ${before.onlineCpus} CPU(s) online, ${(before.memoryBytes / 2 ** 20).toFixed(0)} MiB`);

  print('\n== Plug/unplug CPUs');
  await flow.scaleCpus('example', 2);
  await flow.scaleCpus('example', 3);
  await flow.scaleCpus('example', 1);

  print('\n== Plug/unplug memory');
  await flow.scaleMemory('example', 3);
  await flow.scaleMemory('example', 2);
  await flow.get('neonvm', 'example');

  print('\n== Live migration');
  await flow.get('neonvm', '-owide');
  const m = await flow.migrate('vm-example-migration.yaml', 'example');
  await flow.get('neonvmm', '-owide');
  print('$ kubectl get neonvmm example -ojsonpath={.status.info}');
  print(JSON.stringify(m.status?.info, null, 2));
  await flow.get('neonvm', '-owide');
  const after = await flow.guestView('example');
  print(
    `guest view after migration: ${after.onlineCpus} CPU(s) online, ${(after.memoryBytes / 2 ** 20).toFixed(0)} MiB`,
  );

  if (stack.certManager) {
    print('\n== A TLS certificate from cert-manager in the guest (examples/vm-tls.yaml)');
    await flow.apply('vm-tls.yaml');
    await flow.waitForPhase('vm-tls', 'Running');
    await flow.get('secret', 'tls-neonvm-vm-tls');
    await flow.inGuest('vm-tls', 'ls -lL /var/tls/');
  }
}
