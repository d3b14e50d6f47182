/**
 * Synthesizes every example into a directory (the main job calls `synthExamples('dist')`):
 *   <out>/cdk8s/*.k8s.yaml       the cdk8s app (install, vm-debian, vm-example, vm-example-migration)
 *   <out>/argocd/argocd-cm.yaml  the health-check snippet for argocd-cm
 *   <out>/argocd/application.yaml
 *   <out>/gitops/{bootstrap,apps,install,vms}/  a platform team's Argo CD repository (examples/gitops;
 *                                   `npm start` syncs the same layout through a real Argo CD)
 *   <out>/app-repo/my-vms.k8s.yaml  (when `appRepo`: runs examples/app-repo/main.ts through tsx, because
 *                                   it imports the package by name as an application does)
 */
import { packagePath } from '../host';
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { App } from 'cdk8s';
import { stringify } from 'yaml';
import { renderArgoCdConfigMapSnippet } from '../constructs';
import { addExampleCharts } from './cdk8s/charts';
import { exampleArgoCdApplication } from './argocd/application';
import { addExampleVm, synthPlatformRepo } from './gitops';

export interface SynthExamplesOptions {
  /**
   * Also synthesize the app-repo example (a child process: `tsx examples/app-repo/main.ts`).
   * @default true
   */
  readonly appRepo?: boolean;
}

/** Returns the written files, relative to `outDir`. */
export async function synthExamples(outDir: string, options: SynthExamplesOptions = {}): Promise<string[]> {
  const out = resolve(outDir);
  const cdk8sDir = join(out, 'cdk8s');
  const app = new App({ outdir: cdk8sDir });
  addExampleCharts(app);
  app.synth();

  const argoDir = join(out, 'argocd');
  mkdirSync(argoDir, { recursive: true });
  writeFileSync(join(argoDir, 'argocd-cm.yaml'), renderArgoCdConfigMapSnippet());
  writeFileSync(join(argoDir, 'application.yaml'), stringify(exampleArgoCdApplication(), { lineWidth: 0 }));

  const gitops = synthPlatformRepo(join(out, 'gitops'), {
    repoURL: 'https://github.com/example/platform.git',
    install: {
      image: 'ghcr.io/neonvm-ts/neonvm-operator:0.1.0',
      runnerImage: 'ghcr.io/neonvm-ts/neonvm-runner:0.1.0',
      devicePluginImage: 'ghcr.io/neonvm-ts/neonvm-device-plugin:0.1.0',
    },
    addVms: (vms, namespace) => void addExampleVm(vms, namespace),
  });

  const files = [
    ...readdirSync(cdk8sDir).map((f) => `cdk8s/${f}`),
    'argocd/argocd-cm.yaml',
    'argocd/application.yaml',
    ...gitops.map((f) => `gitops/${f}`),
  ];
  if (options.appRepo ?? true) {
    const appRepoDir = join(out, 'app-repo');
    // The app-repo example is TypeScript (as users write it); find it from sources or from lib/.
    const repoRoot = resolve(packagePath(__dirname, 'examples/app-repo/main.ts'), '..', '..', '..');
    // Against this checkout's sources (tsconfig paths map `neonvm/*`): a quick look at its output.
    // What app repos install — the packed package, `cdk8s synth` — is test/release/npm-pack.int.test.ts.
    await promisify(execFile)(process.execPath, [require.resolve('tsx/cli'), join(repoRoot, 'examples/app-repo/main.ts')], {
      cwd: repoRoot,
      env: { ...process.env, CDK8S_OUTDIR: appRepoDir },
    });
    files.push(...readdirSync(appRepoDir).map((f) => `app-repo/${f}`));
  }
  return files.sort();
}
