/**
 * `npm start`'s GitOps stage: when Argo CD is built, a local cluster of its own where Argo CD installs
 * NeonVM and the example VM from the platform repository (examples/gitops), and what Argo CD reports
 * about the Applications as it goes. Its own cluster because there the operator is the install's
 * Deployment, synced by Argo CD; it cannot share a cluster with the operator of `npm start`'s seed
 * stage (the same CRDs and webhook configurations, two operators reconciling the same VMs).
 * `syncPlatform` is also the first step of test/e2e/argocd.int.test.ts.
 */
import { join } from 'node:path';
import { findArgoCd } from '../cluster/build';
import { PLATFORM_APPS, addExampleVm, type PlatformRepoOptions } from '../examples/gitops';
import { pollUntil } from '../host';
import {
  applicationSyncedAt,
  describeApplication,
  describeResource,
  dumpDiagnostics,
  type ArgoApplication,
} from '../local-stack';
import { startGitOpsPlatform, type GitOpsPlatform } from './gitops-platform';

type AppRole = keyof typeof PLATFORM_APPS;
/** The platform's Applications as read at one moment (absent: not created yet). */
export type PlatformApps = { readonly [R in AppRole]?: ArgoApplication };
export type SyncedPlatformApps = { readonly [R in AppRole]: ArgoApplication };

const ROLES = Object.keys(PLATFORM_APPS) as AppRole[];
const NEONVM_KINDS = new Set(['VirtualMachine', 'VirtualMachineMigration']);

export interface SyncPlatformOptions {
  /** The VM charts of the commit (examples/gitops `addExampleVm` and friends). */
  readonly addVms: PlatformRepoOptions['addVms'];
  readonly message: string;
  /** Each change of what Argo CD reports, as one line per Application and per NeonVM resource. */
  readonly print?: (line: string) => void;
  /** Every read of the Applications, in order (the end-to-end test checks the waves on them). */
  readonly onSample?: (apps: PlatformApps) => void;
  /** @default 900_000 (a cold guest boot under TCG on a loaded machine) */
  readonly timeoutMs?: number;
  /** @default 500 */
  readonly intervalMs?: number;
}

/** What Argo CD reports now, keyed by object: each Application, and its NeonVM resources. */
function statusLines(apps: PlatformApps): [key: string, line: string][] {
  return ROLES.flatMap((role) => {
    const app = apps[role];
    if (!app) return [];
    const resources = (app.status?.resources ?? []).filter((r) => NEONVM_KINDS.has(r.kind));
    return [
      [app.metadata.name, describeApplication(app)] as [string, string],
      ...resources.map(
        (r) =>
          [`${app.metadata.name}/${r.kind}/${r.namespace}/${r.name}`, `  ${describeResource(r)}`] as [
            string,
            string,
          ],
      ),
    ];
  });
}

/**
 * Commits the platform repository, applies only its root Application (the bootstrap) and follows
 * Argo CD until every Application is Synced at that commit and Healthy: the install's waves, then the
 * VMs. Returns the commit and the Applications as Argo CD last reported them.
 */
export async function syncPlatform(
  platform: GitOpsPlatform,
  o: SyncPlatformOptions,
): Promise<{ readonly sha: string; readonly apps: SyncedPlatformApps }> {
  const print = o.print ?? (() => undefined);
  const sha = await platform.commitPlatform(o.addVms, o.message);
  print(`git: ${sha.slice(0, 7)} "${o.message}" in ${platform.repo.url}`);
  print('bootstrap: applying the root Application (bootstrap/platform.yaml), the one object applied by hand');
  await platform.bootstrapPlatform();
  const t0 = Date.now();
  const printed = new Map<string, string>();
  const read = (role: AppRole) => platform.application(PLATFORM_APPS[role]).catch(() => undefined);
  const apps = await pollUntil(
    async () => {
      const sample: PlatformApps = Object.fromEntries(
        await Promise.all(ROLES.map(async (role) => [role, await read(role)] as const)),
      );
      o.onSample?.(sample);
      for (const [key, line] of statusLines(sample)) {
        if (printed.get(key) === line) continue; // only what changed
        printed.set(key, line);
        print(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${line}`);
      }
      return ROLES.every((role) => sample[role] && applicationSyncedAt(sample[role], sha, 'Healthy'))
        ? (sample as SyncedPlatformApps)
        : undefined;
    },
    {
      description: `Argo CD to report every Application Synced at ${sha.slice(0, 7)} and Healthy`,
      timeoutMs: o.timeoutMs ?? 900_000,
      intervalMs: o.intervalMs ?? 500,
    },
  );
  print(
    `every Application Synced and Healthy ${((Date.now() - t0) / 1000).toFixed(1)} s after the bootstrap`,
  );
  return { sha, apps };
}

/** How often the GitOps stage's Argo CD compares git with the cluster without being asked. */
const DEMO_APP_RESYNC_SECONDS = 30;

/**
 * The stage: says how to build Argo CD when it is not built (and returns undefined), else starts the
 * platform, syncs the install and the example VM through Argo CD and prints the Applications' sync
 * and health status. The returned platform keeps running; the caller stops it. On failure it prints
 * diagnostics, stops the platform and throws.
 */
export async function runGitOpsDemo(print: (line: string) => void): Promise<GitOpsPlatform | undefined> {
  const build = findArgoCd();
  if (!build) {
    print(
      'Argo CD is not built, so this stage is skipped. `bash scripts/build-argocd.sh` builds it from its Go\n' +
        'module (about 40 min cold on 2 busy cores, about 1 min with a warm Go build cache; README: GitOps);\n' +
        '`npm test` and CI build it in the background. Then `npm start` syncs examples/gitops through it.',
    );
    return undefined;
  }
  const platform = await startGitOpsPlatform({
    nodes: 2,
    argoCd: build,
    appResyncSeconds: DEMO_APP_RESYNC_SECONDS,
    progress: (l) => print(`  ${l}`),
  });
  try {
    await syncPlatform(platform, {
      addVms: (app, ns) => void addExampleVm(app, ns),
      message: 'platform: the NeonVM install and the example VM',
      print,
    });
    const ns = platform.argoCd.namespace;
    print(`$ kubectl get applications -n ${ns}`);
    print((await platform.kubectl('get', 'applications', '-n', ns)).trimEnd());
    print('$ kubectl get neonvm -n vms -owide');
    print((await platform.kubectl('get', 'neonvm', '-n', 'vms', '-owide')).trimEnd());
    return platform;
  } catch (err) {
    print(`GitOps stage failed: ${err instanceof Error ? err.message : String(err)}`);
    for (const role of ROLES) {
      const app = await platform.application(PLATFORM_APPS[role]).catch(() => undefined);
      if (app) print(JSON.stringify({ name: app.metadata.name, status: app.status }, null, 2));
    }
    await dumpDiagnostics(platform, print, 'vms');
    print(`Argo CD's logs: ${join(platform.cluster.dir, 'logs')}/argocd-*.log (removed on stop)`);
    await platform.stop();
    throw err;
  }
}

/** What to try on the GitOps cluster once the stage is done. */
export function gitOpsHints(platform: GitOpsPlatform, kubeconfig: string): string {
  const wt = platform.repo.workTree;
  return `
The GitOps cluster keeps running too; Argo CD compares git with it every ${DEMO_APP_RESYNC_SECONDS} s:
  export KUBECONFIG=${kubeconfig}
  kubectl get applications -n ${platform.argoCd.namespace}
  kubectl get neonvm -n vms -owide
  # a commit that changes spec.guest.cpus.use in ${join(wt, 'vms', 'example.k8s.yaml')}
  # hot-plugs the running VM:
  git -C ${wt} commit -am 'example: 2 CPUs' && git -C ${wt} push origin HEAD:main`;
}
