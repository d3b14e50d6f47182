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
import { findPulumiToolchain, runInlineProgram } from '../../provider';
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

  test('up creates the VMs', async () => {
    const up = await runInlineProgram('up', {
      ...options(),
      program: neonvmExamplesProgram({ waitForRunning: false }),
    });
    expect(up.changes.create).toBeGreaterThanOrEqual(4); // stack, 2 components, 2 custom resources
    expect(await vmNames()).toEqual(['example', 'vm-debian']);
  }, 300_000);

  test('preview of an edit warns which fields hot-plug and which restart', async () => {
    const previous = process.env.KUBECONFIG;
    process.env.KUBECONFIG = cluster.kubeconfigPath; // the component reads the live object at preview
    try {
      const program = neonvmExamplesProgram({ waitForRunning: false, exampleCpuUse: 2 });
      const preview = await runInlineProgram('preview', { ...options(), program });
      expect(preview.changes.update).toBeGreaterThanOrEqual(1);
      expect(log.join('')).toMatch(/spec\.guest\.cpus\.use: 1 → 2 — applied live/);
    } finally {
      process.env.KUBECONFIG = previous;
    }
  }, 300_000);

  test('destroy removes them', async () => {
    const destroy = await runInlineProgram('destroy', {
      ...options(),
      program: neonvmExamplesProgram({ waitForRunning: false }),
    });
    expect(destroy.changes.delete).toBeGreaterThanOrEqual(2);
    expect(await vmNames()).toEqual([]);
  }, 300_000);

  test('the install bundle (NeonVmInstall through ConfigGroups) goes up and comes down', async () => {
    const program = neonvmExamplesProgram({ install: true, multus: true, vms: false, waitForRunning: false });
    const opts = { ...options(), stackName: 'install' };
    const up = await runInlineProgram('up', { ...opts, program });
    expect(up.changes.create).toBeGreaterThanOrEqual(20);
    const apps = cluster.kubeConfig.makeApiClient(AppsV1Api);
    const deployment = await apps.readNamespacedDeployment({
      name: 'neonvm-controller',
      namespace: 'neonvm-system',
    });
    expect(deployment.spec?.template.spec?.containers[0].env?.map((e) => e.name)).toContain(
      'VM_RUNNER_IMAGE',
    );
    const destroy = await runInlineProgram('destroy', { ...opts, program });
    expect(destroy.changes.delete).toBeGreaterThanOrEqual(20);
    await expect(
      apps.readNamespacedDeployment({ name: 'neonvm-controller', namespace: 'neonvm-system' }),
    ).rejects.toThrow();
  }, 600_000);
});
