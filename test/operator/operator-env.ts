/**
 * Local-cluster setup shared by the operator integration tests and `bench/operator.ts` (no jest here):
 * our CRDs, a `runner` command on PATH (the node agent runs containers with this process's PATH) and
 * the images runner pods refer to.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { LocalCluster } from '../../cluster';

const run = promisify(execFile);

export const FAKE_RUNNER_IMAGE = 'neonvm-test/fake-runner:latest';
export const FAKE_DISK_IMAGE = 'neonvm-test/fake-disk:latest';
export const REPO_ROOT = resolve(__dirname, '../..');
export const TSX_LOADER = join(REPO_ROOT, 'node_modules/tsx/dist/loader.mjs');

/**
 * `full`: fake-runner.ts (the whole runner API, scaling and migration simulated; ~60 MB per pod).
 * `static`: static-runner.c, compiled here with gcc, answering /ready, /status and the scaling calls
 * (`POST /cpu_change`, `PUT /memory`, applied at once; bearer token checked) for a VM of 1-4 CPUs and
 * 1-4 memory slots (~100 KiB per pod), for benchmarks with a thousand VMs.
 */
export type FakeRunnerKind = 'full' | 'static';

export function installRunnerShim(kind: FakeRunnerKind): string {
  const dir = mkdtempSync(join(tmpdir(), 'neonvm-fake-runner-'));
  const script =
    kind === 'full'
      ? `exec "${process.execPath}" --import "${TSX_LOADER}" "${join(__dirname, 'fake-runner.ts')}" "$@"`
      : `exec "${join(dir, 'static-runner')}" 25183`;
  if (kind === 'static')
    execFileSync('gcc', ['-O2', '-o', join(dir, 'static-runner'), join(__dirname, 'static-runner.c')]);
  writeFileSync(join(dir, 'runner'), `#!/bin/sh\n${script}\n`);
  chmodSync(join(dir, 'runner'), 0o755);
  mkdirSync(join(dir, 'disk'));
  writeFileSync(join(dir, 'disk', 'disk.qcow2'), '');
  process.env.PATH = `${dir}:${process.env.PATH ?? ''}`;
  return dir;
}

export async function kubectlRun(cluster: LocalCluster, ...args: string[]): Promise<string> {
  const { stdout } = await run(cluster.binaries.kubectl, ['--kubeconfig', cluster.kubeconfigPath, ...args]);
  return stdout;
}

/** Applies crds/generated with kubectl (client-node's CRD model drops `x-kubernetes-*` keys of raw YAML). */
export async function installCrds(cluster: LocalCluster): Promise<void> {
  const crds = join(REPO_ROOT, 'crds/generated');
  await kubectlRun(cluster, 'apply', '--server-side', '-f', crds);
  await kubectlRun(cluster, 'wait', '--for=condition=Established', '--timeout=60s', '-f', crds);
}

export function registerFakeImages(cluster: LocalCluster, shimDir: string): void {
  cluster.images.register(FAKE_RUNNER_IMAGE, { entrypoint: ['runner'] });
  cluster.images.register(FAKE_DISK_IMAGE, { entrypoint: ['/bin/sh'], files: join(shimDir, 'disk') });
}

/**
 * Multus's NetworkAttachmentDefinition CRD (schema-less, as Multus ships it), for tests of the
 * overlay network: the operator reads its IPAM settings from a NAD. Waits until it is Established.
 */
export async function installMultusNadCrd(cluster: LocalCluster): Promise<void> {
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'network-attachment-definitions.k8s.cni.cncf.io' },
    spec: {
      group: 'k8s.cni.cncf.io',
      scope: 'Namespaced',
      names: {
        plural: 'network-attachment-definitions',
        singular: 'network-attachment-definition',
        kind: 'NetworkAttachmentDefinition',
        shortNames: ['net-attach-def'],
      },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        },
      ],
    },
  };
  const dir = mkdtempSync(join(tmpdir(), 'neonvm-nad-crd-'));
  try {
    writeFileSync(join(dir, 'crd.json'), JSON.stringify(crd));
    await kubectlRun(cluster, 'apply', '-f', join(dir, 'crd.json'));
    await kubectlRun(
      cluster,
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      '-f',
      join(dir, 'crd.json'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
