/**
 * kubectl (the locally built one) against a harness cluster: the client these tests are about
 * (server-side apply, `--dry-run=server`), also used to apply the CRDs they need first.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureK8sBinaries } from '../../cluster/build/k8s-binaries';

const run = promisify(execFile);

export interface KubectlResult {
  readonly ok: boolean;
  readonly output: string;
}

export interface Kubectl {
  (args: readonly string[], stdin?: string): Promise<KubectlResult>;
}

export async function kubectlFor(kubeconfigPath: string): Promise<Kubectl> {
  const bin = (await ensureK8sBinaries()).kubectl;
  return async (args, stdin) => {
    try {
      const child = run(bin, [`--kubeconfig=${kubeconfigPath}`, ...args], { maxBuffer: 16 << 20 });
      if (stdin !== undefined) child.child.stdin?.end(stdin);
      const r = await child;
      return { ok: true, output: r.stdout + r.stderr };
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string; message?: string };
      return { ok: false, output: `${err.stdout ?? ''}${err.stderr ?? ''}` || String(err.message) };
    }
  };
}

export const NEONVM_CRD_DIR = join(__dirname, '..', '..', 'crds', 'generated');

/** Server-side applies files or directories and waits for every CRD among them to be Established. */
export async function applyAndEstablish(kubectl: Kubectl, path: string): Promise<void> {
  const applied = await kubectl(['apply', '--server-side', '--field-manager=neonvm-test', '-f', path]);
  if (!applied.ok) throw new Error(`kubectl apply -f ${path}: ${applied.output}`);
  const crds = applied.output.match(/customresourcedefinition\.apiextensions\.k8s\.io\/\S+/g) ?? [];
  for (const crd of crds) {
    const waited = await kubectl(['wait', '--for=condition=Established', crd, '--timeout=60s']);
    if (!waited.ok) throw new Error(`${crd}: ${waited.output}`);
  }
}
