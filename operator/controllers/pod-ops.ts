/** Pod writes shared by both controllers: create (idempotent), metadata sync, delete, owner changes. */
import type { V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import { MERGE_PATCH, isAlreadyExists, unlessNotFound, type CoreApi, type Informer } from '../../kube';
import { podMetadataPatch } from '../pod';

export class PodOps {
  constructor(
    private readonly core: CoreApi,
    private readonly pods: Informer<V1Pod>,
  ) {}

  /** Creates the pod; an existing pod of that name is fine (its name was persisted first). */
  /** Creates the pod; resolves with it as stored, or undefined when it already existed. */
  async create(pod: V1Pod): Promise<V1Pod | undefined> {
    const namespace = pod.metadata?.namespace ?? 'default';
    try {
      const created = await this.core.createNamespacedPod({ namespace, body: pod });
      this.pods.recordWrite(created);
      return created;
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      return undefined;
    }
  }

  /** The patch that gives `pod` these labels/annotations, to send later; undefined if it has them. */
  metadataSync(
    pod: V1Pod,
    expected: { labels: Record<string, string>; annotations: Record<string, string> },
  ): (() => Promise<void>) | undefined {
    const patch = podMetadataPatch(pod.metadata ?? {}, expected);
    if (!patch) return undefined;
    return () => this.patch(pod, patch);
  }

  async setOwners(pod: V1Pod, ownerReferences: V1OwnerReference[]): Promise<void> {
    await this.patch(pod, { metadata: { ownerReferences, resourceVersion: pod.metadata?.resourceVersion } });
  }

  async delete(namespace: string, name: string): Promise<void> {
    await unlessNotFound(this.core.deleteNamespacedPod({ name, namespace }));
  }

  private async patch(pod: V1Pod, body: object): Promise<void> {
    const { name = '', namespace = 'default' } = pod.metadata ?? {};
    this.pods.recordWrite(await this.core.patchNamespacedPod({ name, namespace, body }, MERGE_PATCH));
  }
}
