/**
 * Why a runner pod cannot start because an image cannot be pulled, named by the VM field that chose
 * the image. FIX: upstream leaves such a VM Pending without a word on the VM (only the pod's status says
 * ErrImagePull); a user who mistyped `spec.guest.rootDisk.image` should see that on the VM. Pure.
 */
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { RUNNER_CONTAINER_NAME } from '../../crds';

/** The kubelet's waiting reasons of an image that cannot be had. */
const PULL_REASONS: ReadonlySet<string> = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
]);

/** Container of the runner pod (build-runner-pod.ts) → the VM field its image comes from. */
const IMAGE_FIELDS: Readonly<Record<string, string>> = {
  init: 'spec.guest.rootDisk.image',
  'init-kernel': 'spec.guest.kernelImage',
  'init-sysctl': 'spec.runnerImage',
  [RUNNER_CONTAINER_NAME]: 'spec.runnerImage',
};

export interface ImagePullProblem {
  readonly field: string;
  readonly image: string;
  /** Stable while the kubelet alternates ErrImagePull and ImagePullBackOff (no status churn). */
  readonly message: string;
}

export function imagePullProblem(pod: V1Pod): ImagePullProblem | undefined {
  const statuses: V1ContainerStatus[] = [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ];
  for (const s of statuses) {
    const waiting = s.state?.waiting;
    const field = IMAGE_FIELDS[s.name];
    if (!waiting?.reason || !PULL_REASONS.has(waiting.reason) || !field) continue;
    const image =
      [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === s.name)
        ?.image ?? s.image;
    // "Back-off pulling image "x": <why>" and the ErrImagePull message carry the same <why>.
    const why = (waiting.message ?? '').replace(/^Back-off pulling image "[^"]*":\s*/, '');
    const runnerDefault = field === 'spec.runnerImage' ? " (or the operator's --runner-image)" : '';
    return {
      field,
      image,
      message: `${field}${runnerDefault}: image "${image}" cannot be pulled${why ? `: ${why}` : ''}`,
    };
  }
  return undefined;
}
