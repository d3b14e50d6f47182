/**
 * Typed access to one custom resource kind through client-node's CustomObjectsApi (which is untyped),
 * with merge patches for spec/metadata and status (the status subresource).
 */
import type { KubeObject, ObjectList } from './object-key';
import { PatchStrategy, setHeaderOptions, type CustomObjectsApi } from '@kubernetes/client-node';

export interface ResourceId {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export class CustomResourceClient<T extends KubeObject> {
  constructor(
    private readonly api: CustomObjectsApi,
    readonly id: ResourceId,
    private readonly fieldManager = 'neonvm-operator',
  ) {}

  /** Watch/list path, all namespaces or one. */
  path(namespace?: string): string {
    const base = `/apis/${this.id.group}/${this.id.version}`;
    return namespace ? `${base}/namespaces/${namespace}/${this.id.plural}` : `${base}/${this.id.plural}`;
  }

  async get(namespace: string, name: string): Promise<T> {
    return (await this.api.getNamespacedCustomObject({ ...this.id, namespace, name })) as T;
  }

  async list(namespace?: string): Promise<ObjectList<T>> {
    const res: unknown = namespace
      ? await this.api.listNamespacedCustomObject({ ...this.id, namespace })
      : await this.api.listClusterCustomObject({ ...this.id });
    return res as ObjectList<T>;
  }

  async create(namespace: string, body: T): Promise<T> {
    return (await this.api.createNamespacedCustomObject({
      ...this.id,
      namespace,
      body,
      fieldManager: this.fieldManager,
    })) as T;
  }

  async replace(namespace: string, name: string, body: T): Promise<T> {
    return (await this.api.replaceNamespacedCustomObject({
      ...this.id,
      namespace,
      name,
      body,
      fieldManager: this.fieldManager,
    })) as T;
  }

  /** JSON merge patch of the object (metadata/spec). Include `metadata.resourceVersion` for a precondition. */
  async patch(namespace: string, name: string, body: object): Promise<T> {
    return (await this.api.patchNamespacedCustomObject(
      { ...this.id, namespace, name, body, fieldManager: this.fieldManager },
      mergePatch,
    )) as T;
  }

  /** JSON merge patch through the status subresource. */
  async patchStatus(namespace: string, name: string, body: object): Promise<T> {
    return (await this.api.patchNamespacedCustomObjectStatus(
      { ...this.id, namespace, name, body, fieldManager: this.fieldManager },
      mergePatch,
    )) as T;
  }

  async delete(namespace: string, name: string): Promise<void> {
    await this.api.deleteNamespacedCustomObject({ ...this.id, namespace, name });
  }
}
