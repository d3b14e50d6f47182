import {
  ApiextensionsV1Api,
  KubeConfig,
  KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { pollUntil } from '../util';

/** Where the crds/ component writes its generated CustomResourceDefinitions. */
export const DEFAULT_CRD_DIR = resolve(__dirname, '..', '..', 'crds', 'generated');

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
  cluster: { kubeConfig: KubeConfig },
  dir: string = DEFAULT_CRD_DIR,
  timeoutMs = 30_000,
): Promise<string[]> {
  const objects = await readManifests(dir);
  const client = KubernetesObjectApi.makeApiClient(cluster.kubeConfig);
  // Apply everything, then report all rejections at once: one invalid CRD should not hide the others.
  const failures: string[] = [];
  for (const object of objects) {
    try {
      await client.patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    } catch (err) {
      failures.push(`${object.kind}/${object.metadata?.name}: ${apiErrorMessage(err)}`);
    }
  }
  if (failures.length > 0)
    throw new Error(`the API server rejected manifests in ${dir}:\n${failures.join('\n')}`);
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

/** The `message` of a Kubernetes Status error body, else the error's own message. */
function apiErrorMessage(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      const status = JSON.parse(body) as { message?: string };
      if (status.message) return status.message;
    } catch {
      // not JSON
    }
  }
  return err instanceof Error ? err.message : String(err);
}

export function isEstablished(crd: V1CustomResourceDefinition): boolean {
  return (crd.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True');
}
