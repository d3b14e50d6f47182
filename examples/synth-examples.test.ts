import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifests, validateObject } from '../crds';
import { synthExamples } from './synth-examples';

type Manifest = Record<string, unknown> & { kind: string; metadata: { name: string }; spec?: unknown; data?: unknown };

function read(file: string): Manifest[] {
  return parseManifests(readFileSync(file, 'utf8'), file) as Manifest[];
}

function byKind(objects: Manifest[], kind: string): Manifest {
  const o = objects.find((x) => x.kind === kind);
  if (!o) throw new Error(`no ${kind}`);
  return o;
}

describe('synthExamples', () => {
  let out: string;
  let files: string[];
  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'neonvm-examples-'));
    files = await synthExamples(out);
  }, 60_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  test('writes the cdk8s charts, the ArgoCD files, the GitOps repository and the app-repo output', () => {
    expect(files).toEqual([
      'app-repo/my-vms.k8s.yaml',
      'argocd/application.yaml',
      'argocd/argocd-cm.yaml',
      'cdk8s/neonvm-install.k8s.yaml',
      'cdk8s/vm-debian.k8s.yaml',
      'cdk8s/vm-example-migration.k8s.yaml',
      'cdk8s/vm-example.k8s.yaml',
      'gitops/apps/neonvm-install.yaml',
      'gitops/apps/neonvm-vms.yaml',
      'gitops/bootstrap/platform.yaml',
      'gitops/install/neonvm-install.k8s.yaml',
      'gitops/vms/example.k8s.yaml',
    ]);
  });

  test.each([
    ['vm-debian.k8s.yaml', 'vm-debian.yaml', 'VirtualMachine'],
    ['vm-example.k8s.yaml', 'vm-example.yaml', 'VirtualMachine'],
    ['vm-example.k8s.yaml', 'vm-example.yaml', 'ConfigMap'],
    ['vm-example-migration.k8s.yaml', 'vm-example-migration.yaml', 'VirtualMachineMigration'],
  ])('%s reproduces the seed example %s (%s)', (synthesized, seed, kind) => {
    const ours = byKind(read(join(out, 'cdk8s', synthesized)), kind);
    const theirs = byKind(read(join(__dirname, seed)), kind);
    expect(ours.metadata.name).toBe(theirs.metadata.name);
    expect(ours.spec).toEqual(theirs.spec);
    expect(ours.data).toEqual(theirs.data);
  });

  test('the example Service selects the VM and forwards postgres', () => {
    const svc = byKind(read(join(out, 'cdk8s', 'vm-example.k8s.yaml')), 'Service') as Manifest & {
      spec: { type: string; selector: unknown; ports: Array<{ name: string; port: number }> };
    };
    expect(svc.spec.type).toBe('NodePort');
    expect(svc.spec.selector).toEqual({ 'vm.neon.tech/name': 'example' });
    expect(svc.spec.ports.map((p) => [p.name, p.port])).toEqual([['postgres', 5432]]);
  });

  test('every synthesized NeonVM object passes crds validation', () => {
    const neonvm = files.flatMap((f) => read(join(out, f))).filter((o) => String(o.apiVersion).startsWith('vm.neon.tech/'));
    expect(neonvm.length).toBeGreaterThanOrEqual(5);
    for (const o of neonvm) expect(validateObject(o)).toEqual([]);
  });
});
