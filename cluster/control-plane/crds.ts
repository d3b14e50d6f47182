import { findUpwards, pollUntil } from '../../host';
import {
  ApiextensionsV1Api,
  KubeConfig,
  KubernetesObject,
  V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import type { K8sBinaries } from '../build';

const run = promisify(execFile);

/** Where the crds/ component writes its generated CustomResourceDefinitions. */
// sources and compiled output (lib/) both find the generated CRDs
export const DEFAULT_CRD_DIR =
  findUpwards(__dirname, 'crds/generated') ?? resolve(__dirname, '..', '..', 'crds', 'generated');

const FIELD_MANAGER = 'neonvm-local-cluster';

/** Every object in the *.yaml / *.yml files of `dir` (sorted by file name, documents in file order). */
export async function readManifests(dir: string): Promise<KubernetesObject[]> {
  if (!existsSync(dir)) return [];
  const files = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  const objects: KubernetesObject[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(await readFile(join(dir, file), 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
      const value: unknown = doc.toJS();
      if (value && typeof value === 'object' && 'kind' in value) objects.push(value as KubernetesObject);
    }
  }
  return objects;
}

/**
 * Applies (server-side apply) every manifest in `dir` — by default crds/generated/, which may not exist
 * yet: then nothing is applied — and waits until each CustomResourceDefinition is Established, so the
 * caller can create custom resources right away. Returns the names of the CRDs applied.
 */
export async function applyCrds(
  cluster: { kubeConfig: KubeConfig; kubeconfigPath: string; binaries: Pick<K8sBinaries, 'kubectl'> },
  dir: string = DEFAULT_CRD_DIR,
  timeoutMs = 30_000,
): Promise<string[]> {
  const objects = await readManifests(dir);
  if (objects.length === 0) return [];
  // kubectl rather than the typed client: @kubernetes/client-node serializes known kinds through its
  // models, which silently drops keys spelled differently from the model's property names (a CRD's
  // `x-kubernetes-int-or-string` becomes `x_kubernetes_int_or_string` there), so the API server would
  // receive a different schema than the file holds. kubectl sends the manifests as written, and reports
  // every rejected object, not just the first.
  try {
    await run(cluster.binaries.kubectl, [
      '--kubeconfig', cluster.kubeconfigPath, 'apply', '--server-side', '--force-conflicts',
      `--field-manager=${FIELD_MANAGER}`, '-f', dir,
    ]); // prettier-ignore
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new Error(`the API server rejected manifests in ${dir}:\n${stderr || (err as Error).message}`);
  }
  const crdNames = objects
    .filter((o) => o.kind === 'CustomResourceDefinition' && o.metadata?.name)
    .map((o) => o.metadata!.name!);
  const api = cluster.kubeConfig.makeApiClient(ApiextensionsV1Api);
  for (const name of crdNames) {
    await pollUntil(
      async () => (isEstablished(await api.readCustomResourceDefinition({ name })) ? true : undefined),
      {
        timeoutMs,
        description: `CRD ${name} to be Established`,
      },
    );
  }
  return crdNames;
}

export function isEstablished(crd: V1CustomResourceDefinition): boolean {
  return (crd.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True');
}
