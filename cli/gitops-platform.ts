/**
 * The GitOps example on the local machine: a GitOpsStack (local cluster, git server, Argo CD with the
 * argocd-cm our constructs generate) whose repository is the platform repository of examples/gitops,
 * with this cluster's install (the local operator image and flags; no device plugin and no overlay
 * network, which node-agent nodes cannot use). Used by `npm start` when Argo CD is built and by test/e2e/argocd.int.test.ts.
 */
import { DEFAULT_OPERATOR_ARGS, argoCdConfigMap } from '../constructs';
import {
  PLATFORM_APPS,
  platformRootApplication,
  synthPlatformRepo,
  type PlatformRepoOptions,
} from '../examples/gitops';
import {
  LOCAL_OPERATOR_FLAGS,
  LOCAL_OPERATOR_IMAGE,
  RUNNER_IMAGE,
  startGitOpsStack,
  type GitOpsStack,
  type GitOpsStackOptions,
} from '../local-stack';

export interface GitOpsPlatform extends GitOpsStack {
  /** The platform repository's settings for this cluster (repo URL, the local install). */
  readonly platform: Omit<PlatformRepoOptions, 'addVms'>;
  /** Synthesizes the platform repository with these VM charts, commits it, asks Argo CD to look. */
  commitPlatform(addVms: PlatformRepoOptions['addVms'], message: string): Promise<string>;
  /** Applies the root Application of the platform repository. */
  bootstrapPlatform(): Promise<void>;
}

export async function startGitOpsPlatform(
  opts: Omit<GitOpsStackOptions, 'argoCdConfigMap'> = {},
): Promise<GitOpsPlatform> {
  const stack = await startGitOpsStack({ ...opts, argoCdConfigMap: argoCdConfigMap({ appOfApps: true }) });
  const platform: Omit<PlatformRepoOptions, 'addVms'> = {
    repoURL: stack.repo.url,
    targetRevision: 'main',
    install: {
      image: LOCAL_OPERATOR_IMAGE,
      runnerImage: RUNNER_IMAGE,
      args: [...DEFAULT_OPERATOR_ARGS, ...LOCAL_OPERATOR_FLAGS],
      // Node-agent nodes: no device plugin (the operator runs with --no-device-plugin-resources), no
      // Multus for an overlay network.
      devicePlugin: false,
      network: false,
    },
  };
  return {
    ...stack,
    platform,
    commitPlatform: (addVms, message) =>
      stack.commit(
        (dir) => synthPlatformRepo(dir, { ...platform, addVms }),
        message,
        Object.values(PLATFORM_APPS),
      ),
    bootstrapPlatform: () =>
      stack.bootstrap(platformRootApplication({ ...platform, addVms: () => undefined })),
  };
}
