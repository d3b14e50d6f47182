/**
 * A real `pulumi up` / `destroy` of the example program against a local kube-apiserver (cluster
 * harness), through the Automation API with an inline program and the locally built CLI + provider.
 *
 * No operator runs in this cluster, so the program is the VM-only variant with `waitForRunning: false`:
 * nothing would ever set `status.phase`, and installing the webhooks without an operator would make
 * the API server reject every VM. The controller manager does run, which `destroy` needs (the provider
 * deletes with foreground propagation; only the garbage collector finishes that).
 *
 * Skipped, with the reason in its title, only when scripts/build-pulumi.sh has not completed.
 */
import { describeIf } from '../../host/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../../cluster/control-plane';
import { GROUP, VERSION, VIRTUAL_MACHINE } from '../../crds';
import { findPulumiToolchain, runInlineProgram } from '../../provider/automation';
import { neonvmExamplesProgram } from '../../examples/pulumi/program';
import { applyAndEstablish, kubectlFor, NEONVM_CRD_DIR } from './kubectl';

const toolchain = findPulumiToolchain();
const suite = describeIf(
  toolchain !== undefined,
  'Pulumi CLI/provider not built (run scripts/build-pulumi.sh)',
);
const title = 'pulumi up/preview/destroy of the example program on a local cluster';

suite(title, () => {
  let cluster: ControlPlane;
  let stateDir: string;
  const log: string[] = [];

  async function vmNames(): Promise<string[]> {
    const api = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    const list = (await api.listNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: 'default',
      plural: VIRTUAL_MACHINE.plural,
    })) as {
      items: Array<{ metadata: { name: string } }>;
    };
    return list.items.map((i) => i.metadata.name).sort();
  }

  beforeAll(async () => {
    cluster = await startControlPlane();
    await applyAndEstablish(await kubectlFor(cluster.kubeconfigPath), NEONVM_CRD_DIR);
    stateDir = mkdtempSync(join(tmpdir(), 'neonvm-pulumi-state-'));
  }, 240_000);

  afterAll(async () => {
    await cluster?.stop();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  const options = () => ({
    stateDir,
    kubeconfig: cluster.kubeconfigPath,
    stackName: 'int',
    onOutput: (t: string) => log.push(t),
  });

  // An explicit Kubernetes provider for the cluster: the components' preview reads the live VMs
  // through it (nothing in this process's environment points at the cluster).
  const program = (o: Parameters<typeof neonvmExamplesProgram>[0] = {}) =>
    neonvmExamplesProgram({ waitForRunning: false, kubeconfig: cluster.kubeconfigPath, ...o });

  test('up creates the VMs; name and namespace come back as outputs', async () => {
    const up = await runInlineProgram('up', { ...options(), program: program() });
    expect(up.changes.create).toBeGreaterThanOrEqual(5); // stack, provider, 2 components, 2 custom resources
    expect(await vmNames()).toEqual(['example', 'vm-debian']);
    expect(up.outputs.exampleName?.value).toBe('example');
    expect(up.outputs.exampleNamespace?.value).toBe('default');
  }, 300_000);

  test("preview of an edit reads the live VM through the component's provider and says what hot-plugs", async () => {
    expect(process.env.KUBECONFIG).not.toBe(cluster.kubeconfigPath);
    const preview = await runInlineProgram('preview', {
      ...options(),
      program: program({ exampleCpuUse: 2 }),
    });
    expect(preview.changes.update).toBeGreaterThanOrEqual(1);
    expect(log.join('')).toMatch(/spec\.guest\.cpus\.use: 1 → 2 — applied live/);
  }, 300_000);

  test('destroy removes them', async () => {
    const destroy = await runInlineProgram('destroy', { ...options(), program: program() });
    expect(destroy.changes.delete).toBeGreaterThanOrEqual(2);
    expect(await vmNames()).toEqual([]);
  }, 300_000);

  test('the install bundle (NeonVmInstall through one yaml.v2.ConfigGroup) goes up and comes down', async () => {
    const installProgram = program({ install: true, multus: true, vms: false });
    const opts = { ...options(), stackName: 'install' };
    const up = await runInlineProgram('up', { ...opts, program: installProgram });
    expect(up.changes.create).toBeGreaterThanOrEqual(20);
    const apps = cluster.kubeConfig.makeApiClient(AppsV1Api);
    const deployment = await apps.readNamespacedDeployment({
      name: 'neonvm-controller',
      namespace: 'neonvm-system',
    });
    expect(deployment.spec?.template.spec?.containers[0].env?.map((e) => e.name)).toContain(
      'VM_RUNNER_IMAGE',
    );
    const destroy = await runInlineProgram('destroy', { ...opts, program: installProgram });
    expect(destroy.changes.delete).toBeGreaterThanOrEqual(20);
    await expect(
      apps.readNamespacedDeployment({ name: 'neonvm-controller', namespace: 'neonvm-system' }),
    ).rejects.toThrow();
  }, 600_000);
});
