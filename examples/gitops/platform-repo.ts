/**
 * A platform team's GitOps repository for NeonVM, as cdk8s writes it, laid out for ArgoCD's
 * app-of-apps pattern:
 *
 *   bootstrap/platform.yaml      the root Application: `kubectl apply` it once, ArgoCD does the rest
 *   apps/neonvm-install.yaml     child Application for install/ (wave -1 of the root)
 *   apps/neonvm-vms.yaml         child Application for vms/ (wave 0: after the install is Healthy)
 *   install/neonvm-install.k8s.yaml   NeonVmInstall: CRDs (wave -2), then namespace, RBAC, webhooks,
 *                                     operator Deployment (wave -1)
 *   vms/*.k8s.yaml               the VMs (wave 0) and migrations (wave 1), one file per chart
 *
 * The install and the VMs are separate Applications because different people own them (platform vs
 * application teams), and because pruning a VM must never be able to touch the CRDs: the install app
 * neither prunes automatically nor cascades a delete, the VMs app does both. The root waits for the
 * install app through the Application health check (`argoCdConfigMap({ appOfApps: true })`).
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { App, Chart } from 'cdk8s';
import { stringify } from 'yaml';
import {
  NeonVmInstall,
  SyncWave,
  argoCdApplication,
  type ArgoCdApplication,
  type NeonVmInstallOptions,
} from '../../constructs';

export const PLATFORM_APPS = { root: 'platform', install: 'neonvm-install', vms: 'neonvm-vms' } as const;

export interface PlatformRepoOptions {
  /** Where ArgoCD reads the repository. */
  readonly repoURL: string;
  /** @default 'HEAD' */
  readonly targetRevision?: string;
  /** The install for this environment (images, operator flags); sync waves are always on. */
  readonly install: Omit<NeonVmInstallOptions, 'syncWaves'>;
  /** Adds this environment's VM charts to the cdk8s app that writes vms/. */
  readonly addVms: (app: App, namespace: string) => void;
  /** @default 'vms' */
  readonly vmNamespace?: string;
  /** @default 'argocd' */
  readonly argoCdNamespace?: string;
}

function application(options: PlatformRepoOptions, name: string, path: string, extra: Partial<Parameters<typeof argoCdApplication>[0]>): ArgoCdApplication {
  return argoCdApplication({
    name,
    repoURL: options.repoURL,
    targetRevision: options.targetRevision,
    path,
    argoCdNamespace: options.argoCdNamespace,
    ...extra,
  });
}

/** The root Application (app-of-apps): the one object applied by hand. */
export function platformRootApplication(options: PlatformRepoOptions): ArgoCdApplication {
  return application(options, PLATFORM_APPS.root, 'apps', {
    namespace: options.argoCdNamespace ?? 'argocd',
    cascadeDelete: true,
  });
}

export function platformChildApplications(options: PlatformRepoOptions): ArgoCdApplication[] {
  return [
    application(options, PLATFORM_APPS.install, 'install', {
      namespace: options.install.namespace ?? 'neonvm-system',
      syncWave: SyncWave.OPERATOR,
      // Never pruned automatically: a CRD dropped from install/ by mistake would delete every VM.
      // Such an object shows OutOfSync until a sync with prune is asked for.
      automated: { prune: false, selfHeal: true },
      retryLimit: 3,
    }),
    application(options, PLATFORM_APPS.vms, 'vms', {
      namespace: options.vmNamespace ?? 'vms',
      syncWave: SyncWave.VIRTUAL_MACHINES,
      createNamespace: true,
      cascadeDelete: true,
      retryLimit: 3,
    }),
  ];
}

const yaml = (o: unknown): string => stringify(o, { lineWidth: 0 });

function filesUnder(dir: string, root: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name), root) : [relative(root, join(dir, e.name))],
  );
}

/**
 * Writes the repository into `outDir` (its bootstrap/, apps/, install/ and vms/ are replaced, nothing
 * else is touched) and returns the files written, relative to it.
 */
export function synthPlatformRepo(outDir: string, options: PlatformRepoOptions): string[] {
  for (const d of ['bootstrap', 'apps', 'install', 'vms']) rmSync(join(outDir, d), { recursive: true, force: true });
  mkdirSync(join(outDir, 'bootstrap'), { recursive: true });
  mkdirSync(join(outDir, 'apps'), { recursive: true });
  writeFileSync(join(outDir, 'bootstrap', 'platform.yaml'), yaml(platformRootApplication(options)));
  for (const app of platformChildApplications(options))
    writeFileSync(join(outDir, 'apps', `${app.metadata.name}.yaml`), yaml(app));

  const install = new App({ outdir: join(outDir, 'install') });
  new NeonVmInstall(new Chart(install, 'neonvm-install'), 'neonvm', { ...options.install, syncWaves: true });
  install.synth();

  const vms = new App({ outdir: join(outDir, 'vms') });
  options.addVms(vms, options.vmNamespace ?? 'vms');
  vms.synth();
  return ['bootstrap', 'apps', 'install', 'vms'].flatMap((d) => filesUnder(join(outDir, d), outDir)).sort();
}
