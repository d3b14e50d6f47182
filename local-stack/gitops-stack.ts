/**
 * NeonVM the GitOps way on one machine: the local cluster, a git server with one repository, and Argo
 * CD (with the caller's argocd-cm) watching it. Nothing of NeonVM is applied here: the caller commits
 * a repository that holds the install bundle (its operator Deployment runs as a pod from
 * LOCAL_OPERATOR_IMAGE) and the VMs, and applies the root Application; Argo CD does the rest.
 * cli/gitops-platform.ts composes it with examples/gitops for `npm start` and the end-to-end test.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  ImageStore,
  startArgoCd,
  startGitServer,
  startLocalCluster,
  type ArgoCdBuild,
  type GitRepository,
  type GitServer,
  type LocalCluster,
  type PlainObject,
  type RunningArgoCd,
} from '../cluster';
import { ensureDebianImage } from '../image/debian';
import { readApplication, type ArgoApplication } from './argocd-application';
import { RUNNER_IMAGE, type NeonVmStack } from './neonvm-stack';
import { installRunnerCommand, programInvocation, type RunnerCommand } from './runner-command';

const run = promisify(execFile);

/** The operator image an install in the repository uses on this cluster (our operator program). */
export const LOCAL_OPERATOR_IMAGE = 'neonvm/operator:local';
/**
 * Operator flags an install on node-agent nodes needs besides the defaults: no device plugin offers
 * neonvm/kvm there and runner pods get no cgroup of their own (as for the operator of `npm start`).
 */
export const LOCAL_OPERATOR_FLAGS: readonly string[] = [
  '--no-device-plugin-resources',
  '--disable-runner-cgroup',
];

export interface GitOpsStackOptions {
  /** Argo CD's `argocd-cm` (constructs/argocd `argoCdConfigMap()`). */
  readonly argoCdConfigMap: PlainObject;
  readonly nodes?: number;
  readonly argoCd?: ArgoCdBuild;
  /** Argo CD's own git polling period; commits are picked up at once through a refresh request. */
  readonly appResyncSeconds?: number;
  readonly progress?: (line: string) => void;
}

export interface GitOpsStack extends NeonVmStack {
  readonly argoCd: RunningArgoCd;
  readonly git: GitServer;
  readonly repo: GitRepository;
  /**
   * Empties the repository's work tree, lets `write` fill it, commits and pushes, and asks Argo CD to
   * look at git now for these Applications (what a git webhook does). Returns the commit.
   */
  commit(write: (workTree: string) => void, message: string, refresh: readonly string[]): Promise<string>;
  /** Applies the root Application (bootstrap): from here on Argo CD does everything. */
  bootstrap(rootApplication: PlainObject): Promise<void>;
  application(name: string): Promise<ArgoApplication>;
}

export async function startGitOpsStack(opts: GitOpsStackOptions): Promise<GitOpsStack> {
  const progress = opts.progress ?? ((line: string) => console.log(line));
  // This cluster's own image store: its operator image carries the API server's address, which
  // differs per cluster (the default store is shared by every cluster on the machine).
  const imageStoreDir = mkdtempSync(join(tmpdir(), 'neonvm-gitops-images-'));
  let runnerCommand: RunnerCommand | undefined;
  let cluster: LocalCluster | undefined;
  let git: GitServer | undefined;
  let argoCd: RunningArgoCd | undefined;
  const stop = async () => {
    await argoCd?.stop();
    await cluster?.stop();
    await git?.stop();
    runnerCommand?.remove();
    rmSync(imageStoreDir, { recursive: true, force: true });
  };
  try {
    progress('guest image: building or reusing neondatabase/vm-debian:11 (Debian 12, cached)');
    const debian = await ensureDebianImage({ progress: (l) => progress(`  ${l}`) });
    runnerCommand = installRunnerCommand();
    progress(`cluster: starting ${opts.nodes ?? 3} nodes`);
    cluster = await startLocalCluster({
      nodes: opts.nodes ?? 3,
      imageStoreDir,
      log: (l) => progress(`  ${l}`),
    });
    const c = cluster;
    c.images.register(RUNNER_IMAGE, { entrypoint: ['runner'] });
    const shared = new ImageStore();
    for (const ref of debian.refs) {
      const manifest = shared.resolve(ref);
      if (manifest) c.images.register(ref, manifest);
    }
    // The operator image: our operator program; in a pod it finds the API server (on the cluster
    // bridge) like any in-cluster client: KUBERNETES_SERVICE_HOST/PORT and its ServiceAccount token.
    const api = new URL(c.server);
    c.images.register(LOCAL_OPERATOR_IMAGE, {
      entrypoint: programInvocation('operator'),
      env: { KUBERNETES_SERVICE_HOST: api.hostname, KUBERNETES_SERVICE_PORT: api.port },
    });
    const kubectl = async (...args: string[]) =>
      (await run(c.binaries.kubectl, ['--kubeconfig', c.kubeconfigPath, ...args], { maxBuffer: 16 << 20 }))
        .stdout;

    progress('git: serving the repository (git daemon on loopback)');
    git = await startGitServer({ logFile: join(c.dir, 'logs', 'git-daemon.log') });
    const repo = await git.createRepository('platform');

    progress('argo cd: starting (argocd-cm from constructs/argocd: health checks, ignoreDifferences)');
    argoCd = await startArgoCd(c, {
      build: opts.argoCd,
      configMap: opts.argoCdConfigMap,
      appResyncSeconds: opts.appResyncSeconds,
      progress: (l) => progress(`  ${l}`),
    });
    const a = argoCd;
    return {
      cluster: c,
      operator: { stop: async () => undefined }, // the install's Deployment, owned by Argo CD
      kubectl,
      stop,
      argoCd: a,
      git,
      repo,
      commit: async (write, message, refresh) => {
        repo.clear();
        write(repo.workTree);
        const sha = await repo.commit(message);
        for (const name of refresh) await a.requestRefresh(name).catch(() => undefined); // not created yet
        return sha;
      },
      bootstrap: (root) => a.apply([root]),
      application: (name) => readApplication(c.kubeConfig, name, a.namespace),
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
