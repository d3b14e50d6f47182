/**
 * Typed access to one custom resource kind through CustomObjectsApi calls (client-node's or ours; untyped),
 * with merge patches for spec/metadata and status (the status subresource), and server-side apply of
 * status fields one controller owns.
 */
import type { KubeObject, ObjectList } from './object-key';
import { setHeaderOptions } from '@kubernetes/client-node/dist/middleware.js';
import { PatchStrategy } from '@kubernetes/client-node/dist/patch.js';
import type { CustomObjectsClient } from './kube-apis';
import { MERGE_PATCH } from './merge-patch';

export interface ResourceId {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  /** The object kind (server-side apply bodies name it). */
  readonly kind: string;
}

const applyPatch = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

export class CustomResourceClient<T extends KubeObject> {
  constructor(
    private readonly api: CustomObjectsClient,
    readonly id: ResourceId,
    private readonly fieldManager = 'neonvm-operator',
  ) {}

  /** The group/version/plural the generic API calls take. */
  private ref(): { group: string; version: string; plural: string } {
    const { group, version, plural } = this.id;
    return { group, version, plural };
  }

  /** Watch/list path, all namespaces or one. */
  path(namespace?: string): string {
    const base = `/apis/${this.id.group}/${this.id.version}`;
    return namespace ? `${base}/namespaces/${namespace}/${this.id.plural}` : `${base}/${this.id.plural}`;
  }

  async get(namespace: string, name: string): Promise<T> {
    return (await this.api.getNamespacedCustomObject({ ...this.ref(), namespace, name })) as T;
  }

  async list(namespace?: string, options: { labelSelector?: string } = {}): Promise<ObjectList<T>> {
    const res: unknown = namespace
      ? await this.api.listNamespacedCustomObject({ ...this.ref(), namespace, ...options })
      : await this.api.listClusterCustomObject({ ...this.ref(), ...options });
    return res as ObjectList<T>;
  }

  async create(namespace: string, body: T): Promise<T> {
    return (await this.api.createNamespacedCustomObject({
      ...this.ref(),
      namespace,
      body,
      fieldManager: this.fieldManager,
    })) as T;
  }

  async replace(namespace: string, name: string, body: T): Promise<T> {
    return (await this.api.replaceNamespacedCustomObject({
      ...this.ref(),
      namespace,
      name,
      body,
      fieldManager: this.fieldManager,
    })) as T;
  }

  /** JSON merge patch of the object (metadata/spec). Include `metadata.resourceVersion` for a precondition. */
  async patch(namespace: string, name: string, body: object): Promise<T> {
    return (await this.api.patchNamespacedCustomObject(
      { ...this.ref(), namespace, name, body, fieldManager: this.fieldManager },
      MERGE_PATCH,
    )) as T;
  }

  /** JSON merge patch through the status subresource. */
  async patchStatus(namespace: string, name: string, body: object): Promise<T> {
    return (await this.api.patchNamespacedCustomObjectStatus(
      { ...this.ref(), namespace, name, body, fieldManager: this.fieldManager },
      MERGE_PATCH,
    )) as T;
  }

  /**
   * Server-side apply through the status subresource as `fieldManager`: `body` holds exactly the
   * status fields that manager owns (an omitted field it owned before is removed; `undefined` gives up
   * all of them). Forced, because the manager is by design the one writer of those fields.
   */
  async applyStatus(
    namespace: string,
    name: string,
    fieldManager: string,
    status: object | undefined,
  ): Promise<T> {
    const body = {
      apiVersion: `${this.id.group}/${this.id.version}`,
      kind: this.id.kind,
      metadata: { name, namespace },
      ...(status ? { status } : {}),
    };
    return (await this.api.patchNamespacedCustomObjectStatus(
      { ...this.ref(), namespace, name, body, fieldManager, force: true },
      applyPatch,
    )) as T;
  }

  async delete(namespace: string, name: string): Promise<void> {
    await this.api.deleteNamespacedCustomObject({ ...this.ref(), namespace, name });
  }
}
