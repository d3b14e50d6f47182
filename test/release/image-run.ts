/**
 * The release images run the way a cluster runs them: the runner image boots a VM inside a pod
 * network namespace, the operator image reconciles VMs on the local cluster. Used by
 * images.int.test.ts on freshly built and unpacked layouts.
 */
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { LocalCluster } from '../../cluster';
import { ClusterNetwork } from '../../cluster/network';
import { freePort, pollUntil } from '../../host';
import {
  SeedFlow,
  startNeonVmStack,
  type LocalOperatorSettings,
  type OperatorHandle,
} from '../../local-stack';
import { encodeGzipBase64, GROUP, VERSION } from '../../crds';
import { RunnerClient } from '../../runner/api';
import { parseOwnCgroup, qemuCgroupDir } from '../../runner/plan/cpu-cgroup';
import { installMultusNadCrd } from '../operator/operator-env';
import { readBundleProcess, startBundle, type RunningBundle } from './oci-bundle';
import { builtinGuest } from '../../crds/testing';

const run = promisify(execFile);

/** Waits for a process started from a bundle to exit; SIGKILL after `ms`. */
async function exitWithin(p: RunningBundle, ms: number): Promise<number | null> {
  const timer = setTimeout(() => p.child.kill('SIGKILL'), ms);
  try {
    return await p.exited;
  } finally {
    clearTimeout(timer);
  }
}

interface ManagerContainer {
  args: string[];
  env: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  securityContext?: { readOnlyRootFilesystem?: boolean };
  volumeMounts?: { name: string; mountPath: string }[];
}

/** The install manifest's objects of the given kinds, and its operator container. */
function readInstallManifest(path: string): {
  docs: KubeDoc[];
  manager: ManagerContainer;
  serviceAccount: string;
} {
  const docs = parseAllDocuments(readFileSync(path, 'utf8')).map((d) => d.toJS() as KubeDoc);
  const deployment = docs.find((d) => d.kind === 'Deployment') as
    | {
        spec: {
          template: {
            spec: { serviceAccountName: string; containers: (ManagerContainer & { name: string })[] };
          };
        };
      }
    | undefined;
  const pod = deployment?.spec.template.spec;
  const manager = pod?.containers.find((c) => c.name === 'manager');
  if (!pod || !manager) throw new Error(`${path}: no operator Deployment with a manager container`);
  return { docs, manager, serviceAccount: pod.serviceAccountName };
}

interface KubeDoc {
  kind: string;
  metadata: { name: string; namespace?: string };
}

/** What of the install manifest the operator's process needs besides our CRDs: its RBAC and the NADs. */
const APPLIED_KINDS = new Set([
  'ServiceAccount',
  'Role',
  'RoleBinding',
  'ClusterRole',
  'ClusterRoleBinding',
  'NetworkAttachmentDefinition',
]);

/**
 * The operator as the install manifest's Deployment runs it, from the unpacked operator image: the
 * image's entrypoint, non-root user and env; the Deployment's args and env, read-only root with an
 * emptyDir /tmp, and its RBAC (a token of its ServiceAccount, nothing more). Local-cluster additions:
 * the kubeconfig (the in-cluster config a pod would have), webhooks registered by URL (there is no
 * Service routing here; that needs create/update on the two webhook configurations, granted
 * separately), probe/metrics addresses, and the runner image and pod settings of the local stack.
 * Ready once /readyz (webhooks registered, caches synced) answers.
 */
async function startImageOperator(
  bundle: string,
  installManifest: string,
  cluster: LocalCluster,
  s: LocalOperatorSettings,
): Promise<OperatorHandle & { process: RunningBundle; probePort: number }> {
  const kubectl = async (...args: string[]) =>
    (await run(cluster.binaries.kubectl, ['--kubeconfig', cluster.kubeconfigPath, ...args])).stdout;
  const { docs, manager, serviceAccount } = readInstallManifest(installManifest);
  const rbac = docs.filter((d) => APPLIED_KINDS.has(d.kind));
  // The install expects Multus; the operator reads its IPAM settings from the overlay NAD.
  await installMultusNadCrd(cluster);
  const dir = mkdtempSync(join(tmpdir(), 'neonvm-install-rbac-'));
  try {
    writeFileSync(join(dir, 'rbac.yaml'), rbac.map((d) => stringify(d)).join('---\n'));
    await kubectl('apply', '-f', join(dir, 'rbac.yaml'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const sa = `${s.namespace}:${serviceAccount}`;
  await kubectl(
    'create',
    'clusterrole',
    'neonvm-local-webhook-registration',
    '--verb=get,create,update',
    '--resource=mutatingwebhookconfigurations,validatingwebhookconfigurations',
  );
  await kubectl(
    'create',
    'clusterrolebinding',
    'neonvm-local-webhook-registration',
    '--clusterrole=neonvm-local-webhook-registration',
    `--serviceaccount=${sa}`,
  );
  const token = (await kubectl('create', 'token', serviceAccount, '-n', s.namespace, '--duration=2h')).trim();
  const current = cluster.kubeConfig.getCurrentCluster();
  if (!current?.caData) throw new Error('the local cluster kubeconfig has no inline CA');
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'local', cluster: { server: current.server, 'certificate-authority-data': current.caData } },
    ],
    users: [{ name: serviceAccount, user: { token } }],
    contexts: [{ name: 'operator', context: { cluster: 'local', user: serviceAccount } }],
    'current-context': 'operator',
  };
  // Where a projected Secret would be: outside the (read-only) image, readable by its non-root user.
  const rootfs = join(bundle, 'rootfs');
  mkdirSync(join(rootfs, 'etc/neonvm'), { recursive: true });
  writeFileSync(join(rootfs, 'etc/neonvm/kubeconfig'), stringify(kubeconfig), { mode: 0o644 });

  const env: Record<string, string> = { POD_NAME: 'neonvm-operator-image-test' };
  for (const e of manager.env) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[e.name] = s.namespace;
  }
  const probePort = await freePort();
  const op = startBundle(bundle, {
    args: [
      ...readBundleProcess(bundle).args,
      ...manager.args,
      // later flags win
      '--kubeconfig=/etc/neonvm/kubeconfig',
      `--runner-image=${s.runnerImage}`,
      '--no-device-plugin-resources',
      '--disable-runner-cgroup',
      '--webhook-port=0',
      `--webhook-url-host=${s.webhookUrlHost}`,
      '--metrics-bind-address=0',
      `--health-probe-bind-address=127.0.0.1:${probePort}`,
    ],
    env,
    readOnlyRootfs: manager.securityContext?.readOnlyRootFilesystem === true,
    tmpfs: (manager.volumeMounts ?? []).filter((m) => m.name === 'tmp').map((m) => m.mountPath),
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
        abortIf: () => op.exitError('operator'),
      },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { stop, process: op, probePort };
}

/** Boots a VM with the runner image (bundle: `umoci unpack` output), hot-plugs a CPU, stops it. */
export async function runnerImageRunsVm(b: string): Promise<void> {
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
      guest: builtinGuest({ min: 1, max: 2, use: 1 }, { min: 1, max: 2, use: 1 }),
    };
    runner = startBundle(b, {
      args: [
        ...readBundleProcess(b).args,
        `-vmspec=${encodeGzipBase64(spec)}`,
        '-memhp-auto-movable-ratio=301',
        // No init container here to place an image's disk: boot the guest baked into the image.
        '-rootdisk-base=builtin',
      ],
      // What the kubelet and the operator's pod spec set.
      env: {
        K8S_POD_NAME: 'vm-release-test',
        POD_IP: pod.ip,
        KUBERNETES_SERVICE_HOST: '10.96.0.1',
        KUBERNETES_SERVICE_PORT: '443',
      },
      netnsPrefix: pod.execPrefix,
      // upstream's runner pod mounts the host's cgroup filesystem (hostPath /sys/fs/cgroup)
      cgroupCpu: true,
    });
    const r = runner;
    const client = new RunnerClient({ baseUrl: `http://${pod.ip}:25183`, token, timeoutMs: 60_000 });
    await pollUntil(async () => ((await client.ready()) ? true : undefined), {
      timeoutMs: 240_000,
      intervalMs: 500,
      description: 'the guest of the runner image to be ready',
      abortIf: () => r.exitError('runner'),
    });
    const status = await client.status();
    expect(status).toMatchObject({ guestReady: true, qemuStatus: 'running', networkMode: 'tap' });
    // The QEMU process is the image's: its root is the rootfs and its binary comes from there.
    const info = JSON.parse(readFileSync(join(rootfs, 'vm/runner/runner.json'), 'utf8')) as {
      qemuPid: number;
    };
    expect(readlinkSync(`/proc/${info.qemuPid}/root`)).toBe(rootfs);
    expect(readlinkSync(`/proc/${info.qemuPid}/exe`)).toBe(join(rootfs, 'usr/bin/qemu-system-x86_64'));
    // QEMU's CPU cgroup, made by the image's runner, follows the CPU change.
    const cgroup = qemuCgroupDir(
      parseOwnCgroup(readFileSync('/proc/self/cgroup', 'utf8'))!,
      'vm-release-test',
    );
    const quota = () =>
      readFileSync(
        join(cgroup, existsSync(join(cgroup, 'cpu.max')) ? 'cpu.max' : 'cpu.cfs_quota_us'),
        'utf8',
      );
    expect(readFileSync(join(cgroup, 'cgroup.procs'), 'utf8').split('\n')).toContain(String(info.qemuPid));
    expect(quota()).toMatch(/^100000\b/);
    await client.setCpu(2000);
    expect((await client.status()).cpus).toMatchObject({ use: 2, plugged: 2, online: 2 });
    expect(quota()).toMatch(/^200000\b/);
    // SIGTERM, as the kubelet stops a pod: ACPI power button → clean guest poweroff → exit 0.
    r.signal('SIGTERM');
    expect(await exitWithin(r, 60_000)).toBe(0);
    expect(existsSync(cgroup)).toBe(false);
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
export async function operatorImageReconcilesVm(bundle: string, installManifest: string): Promise<void> {
  let op: Awaited<ReturnType<typeof startImageOperator>> | undefined;
  const stack = await startNeonVmStack({
    nodes: 1,
    progress: () => undefined,
    startOperator: async (cluster, settings) =>
      (op = await startImageOperator(bundle, installManifest, cluster, settings)),
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
