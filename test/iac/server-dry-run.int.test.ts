/**
 * The synthesized YAML against a real kube-apiserver (cluster harness): server-side apply with
 * `--dry-run=server` through the locally built kubectl. The NeonVM CRDs (and Multus's, for the
 * attachment definitions) are applied for real first; then every synthesized file must be accepted,
 * and objects that break the CRD schema must be rejected by the API server with the field named.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startControlPlane, type ControlPlane } from '../../cluster/control-plane';
import { buildMultus } from '../../constructs';
import { synthExamples } from '../../examples/synth-examples';
import { applyAndEstablish, kubectlFor, NEONVM_CRD_DIR, type Kubectl } from './kubectl';

describe('synthesized manifests on a real API server (server-side apply, dry-run=server)', () => {
  let cluster: ControlPlane;
  let kubectl: Kubectl;
  let out: string;
  let files: string[];

  const kubectlApply = (args: string[], input?: string) =>
    kubectl(['apply', '--server-side', '--field-manager=neonvm-test', ...args], input);

  beforeAll(async () => {
    cluster = await startControlPlane();
    kubectl = await kubectlFor(cluster.kubeconfigPath);
    await applyAndEstablish(kubectl, NEONVM_CRD_DIR);
    out = mkdtempSync(join(tmpdir(), 'neonvm-dry-run-'));
    files = await synthExamples(out, { appRepo: true });
    // The attachment definitions need Multus's CRD, and namespaced objects an existing namespace.
    const prereq = join(out, 'prereq.yaml');
    const namespaces = ['neonvm-system', 'apps'].map((name) => ({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name },
    }));
    writeFileSync(prereq, [...buildMultus().crds, ...namespaces].map((o) => stringify(o)).join('---\n'));
    await applyAndEstablish(kubectl, prereq);
  }, 240_000);

  afterAll(async () => {
    await cluster?.stop();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  test.each([
    'cdk8s/neonvm-install.k8s.yaml',
    'cdk8s/vm-debian.k8s.yaml',
    'cdk8s/vm-example.k8s.yaml',
    'cdk8s/vm-example-migration.k8s.yaml',
    'app-repo/my-vms.k8s.yaml',
  ])(
    '%s is accepted',
    async (file) => {
      expect(files).toContain(file);
      const r = await kubectlApply(['--dry-run=server', '-f', join(out, file)]);
      expect(r.output).not.toMatch(/error|invalid/i);
      expect(r.ok).toBe(true);
    },
    60_000,
  );

  const vm = (guest: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    stringify({
      apiVersion: 'vm.neon.tech/v1',
      kind: 'VirtualMachine',
      metadata: { name: 'bad', namespace: 'default' },
      spec: { guest, ...extra },
    });
  const rootDisk = { image: 'neondatabase/vm-debian:11' };

  test.each([
    ['missing rootDisk', vm({}), 'spec.guest.rootDisk'],
    [
      'memory slots below 1',
      vm({ rootDisk, memorySlots: { min: 0, max: 1, use: 1 } }),
      'spec.guest.memorySlots.min',
    ],
    [
      'CPU amount not a quantity',
      vm({ rootDisk, cpus: { min: 1, max: 'lots', use: 1 } }),
      'spec.guest.cpus.max',
    ],
    ['unknown restartPolicy', vm({ rootDisk }, { restartPolicy: 'Sometimes' }), 'spec.restartPolicy'],
    ['port out of range', vm({ rootDisk, ports: [{ port: 70000 }] }), 'spec.guest.ports[0].port'],
    [
      'migration without vmName',
      stringify({
        apiVersion: 'vm.neon.tech/v1',
        kind: 'VirtualMachineMigration',
        metadata: { name: 'bad', namespace: 'default' },
        spec: { vmName: '' },
      }),
      'spec.vmName',
    ],
  ])(
    '%s is rejected by the schema',
    async (_name, manifest, path) => {
      const r = await kubectlApply(['--dry-run=server', '-f', '-'], manifest);
      expect(r.ok).toBe(false);
      expect(r.output).toContain(path);
    },
    60_000,
  );
});
