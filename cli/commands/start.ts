import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import {
  NEONVM_KINDS,
  buildCustomResourceDefinition,
  crdFileName,
  defaultVirtualMachine,
  defaultVirtualMachineMigration,
  isNeonVmObject,
  renderCrdYaml,
  serializeManifests,
  type VirtualMachine,
  type VirtualMachineMigration,
} from '../../crds';
import { cacheRoot } from '../../host';
import { describeObject, expandManifestPaths } from '../manifest-files';
import { validateFiles } from './validate';
import { synthExamples } from '../../examples/synth-examples';
import type { GitOpsPlatform } from '../gitops-platform';

export interface StartOptions {
  readonly examples: string;
  readonly out: string;
  /** commander's `--no-cluster`: only validate and render. */
  readonly cluster: boolean;
  /** Tear everything down after the demo instead of leaving the cluster running. */
  readonly once?: boolean;
  /** commander's `--no-gitops`: skip the Argo CD stage even when Argo CD is built. */
  readonly gitops: boolean;
  readonly nodes: string;
  /** `auto` (default): on real nodes when the node toolchain is built and we are root; `on`; `off`. */
  readonly realNodes: string;
}

/** Whether the demo runs on real nodes (kubelet + containerd), and why not when it does not. */
export function realNodeChoice(
  flag: string,
  facts: { root: boolean; toolchainBuilt: boolean },
): { use: boolean; why: string } {
  if (!['auto', 'on', 'off'].includes(flag))
    throw new Error(`--real-nodes: '${flag}' is not one of auto, on, off`);
  if (flag === 'off') return { use: false, why: '--real-nodes off' };
  if (!facts.root) return { use: false, why: 'real nodes need root' };
  if (flag === 'on') return { use: true, why: '--real-nodes on' };
  return facts.toolchainBuilt
    ? { use: true, why: 'the real-node toolchain is built' }
    : {
        use: false,
        why: 'the real-node toolchain is not built (scripts/build-node-toolchain.sh; then npm start runs the demo on real nodes)',
      };
}

/** Applies defaults to NeonVM objects so dist/ shows exactly what the API server will store. */
function rendered(o: Record<string, unknown>): unknown {
  if (!isNeonVmObject(o)) return o;
  if (o.kind === 'VirtualMachine') return defaultVirtualMachine(o as unknown as VirtualMachine);
  if (o.kind === 'VirtualMachineMigration')
    return defaultVirtualMachineMigration(o as unknown as VirtualMachineMigration);
  return o;
}

/** Stage 1 of the main job: validate every example, write the CRDs and the defaulted examples to dist/. */
export function renderExamples(opts: Pick<StartOptions, 'examples' | 'out'>): number {
  const out = resolve(opts.out);
  console.log(`==> validating ${opts.examples}`);
  const { checked, failures } = validateFiles([opts.examples]);
  for (const c of checked) {
    const bad = failures.find((f) => f.source === c);
    console.log(
      `  ${bad ? 'FAIL' : 'ok  '} ${c.file}: ${describeObject(c.object)}${isNeonVmObject(c.object) ? '' : ' (not a NeonVM kind: passed through)'}`,
    );
    if (bad) console.log(bad.message.replace(/^/gm, '       '));
  }
  if (failures.length) {
    console.error(`${failures.length} invalid object(s); nothing written`);
    return 1;
  }
  rmSync(join(out, 'crds'), { recursive: true, force: true });
  rmSync(join(out, 'examples'), { recursive: true, force: true });
  mkdirSync(join(out, 'crds'), { recursive: true });
  mkdirSync(join(out, 'examples'), { recursive: true });
  console.log(`==> writing CRDs to ${join(out, 'crds')}`);
  for (const info of NEONVM_KINDS) {
    const file = join(out, 'crds', crdFileName(info));
    writeFileSync(file, renderCrdYaml(buildCustomResourceDefinition(info)));
    console.log(`  ${file}`);
  }
  console.log(`==> writing defaulted examples to ${join(out, 'examples')}`);
  for (const file of expandManifestPaths([opts.examples])) {
    const objects = checked.filter((c) => c.file === file).map((c) => rendered(c.object));
    const target = join(out, 'examples', basename(file));
    writeFileSync(target, serializeManifests(objects));
    console.log(`  ${target}`);
  }
  console.log(`done: ${checked.length} object(s) valid`);
  return 0;
}

const step = (title: string) => console.log(`\n==> ${title} (${new Date().toISOString().slice(11, 19)})`);

/**
 * The main job: render and validate (stage 1), synthesize the cdk8s/Pulumi/app-repo examples
 * (stage 2), then bring NeonVM up on a local cluster and run the seed's flows (stage 3), then, when
 * Argo CD is built, let Argo CD sync the GitOps example into a cluster of its own (stage 4), leaving
 * the clusters running for `kubectl` unless `--once`.
 */
export async function runStart(opts: StartOptions): Promise<number> {
  step('validate examples and render CRDs');
  if (renderExamples(opts) !== 0) return 1;
  step('synthesize the cdk8s, Pulumi and app-repo examples');
  for (const file of await synthExamples(join(resolve(opts.out), 'synth'))) console.log(`  ${file}`);
  if (!opts.cluster) return 0;

  // Loaded here so `neonvm validate` and friends do not pay for the operator and cluster modules.
  const { startNeonVmStack, startReleaseStack, ensureLocalRelease, runSeedFlow, dumpDiagnostics } =
    await import('../../local-stack');
  const { runGitOpsDemo, gitOpsHints } = await import('../gitops-demo');
  const { findNodeToolchain } = await import('../../cluster');
  const real = realNodeChoice(opts.realNodes, {
    root: process.getuid?.() === 0,
    toolchainBuilt: findNodeToolchain() !== undefined,
  });
  const progress = (l: string): void => console.log(`  ${l}`);
  let stack;
  if (real.use) {
    step(`build the release images for real nodes (${real.why})`);
    const release = await ensureLocalRelease(progress);
    step('start NeonVM on real nodes (kubelet + containerd), installed from its install manifest');
    stack = await startReleaseStack({ ...release, progress });
  } else {
    step(`start NeonVM on a local cluster of node-agent nodes (${real.why})`);
    stack = await startNeonVmStack({
      nodes: Number(opts.nodes),
      progress,
      operatorLogLevel: process.env.NEONVM_OPERATOR_LOG,
      // spec.tls works locally once cert-manager is built; npm start does not wait minutes for that.
      certManager: 'if-built',
    });
  }
  let gitops: GitOpsPlatform | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log(`stopping: VMs, operator, ${stack.realNodes ? 'real nodes' : 'node agents'}, control plane`);
    await gitops?.stop();
    await stack.stop();
    process.exit(code);
  };
  process.once('SIGINT', () => void stop(130));
  process.once('SIGTERM', () => void stop(143));
  try {
    await runSeedFlow(stack, (l) => console.log(l));
    if (opts.gitops) {
      step('GitOps: Argo CD syncs the platform repository (examples/gitops) into a cluster of its own');
      gitops = await runGitOpsDemo((l) => console.log(l));
    }
  } catch (err) {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    await dumpDiagnostics(stack, (l) => console.error(l));
    await stop(1);
    return 1;
  }
  if (opts.once) {
    await stop(0);
    return 0;
  }
  const kubeconfig = join(cacheRoot(), 'local-cluster.kubeconfig');
  copyFileSync(stack.cluster.kubeconfigPath, kubeconfig);
  const gitopsKubeconfig = join(cacheRoot(), 'local-gitops-cluster.kubeconfig');
  if (gitops) copyFileSync(gitops.cluster.kubeconfigPath, gitopsKubeconfig);
  const pod = '$(kubectl get neonvm example -ojsonpath={.status.podName})';
  console.log(`
The cluster keeps running. Try:
  export KUBECONFIG=${kubeconfig}
  alias kubectl=${stack.cluster.binaries.kubectl}
  kubectl get neonvm -owide
  kubectl patch neonvm example --type=json -p='[{"op":"replace","path":"/spec/guest/cpus/use","value":2}]'
  kubectl logs ${pod}
  kubectl exec ${pod} -- cat /proc/self/status
  kubectl delete neonvm vm-debian${
    stack.certManager
      ? `
  kubectl exec $(kubectl get neonvm vm-tls -ojsonpath={.status.podName}) -- ssh guest-vm cat /var/tls/tls.crt`
      : ''
  }${gitops ? `\n${gitOpsHints(gitops, gitopsKubeconfig)}` : ''}
Ctrl-C stops everything and cleans up.`);
  return new Promise<number>(() => undefined); // until a signal
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('the main job: validate and render the examples, then run NeonVM on a local cluster')
    .option('--examples <dir>', 'directory of example manifests', 'examples')
    .option('--out <dir>', 'output directory', 'dist')
    .option('--no-cluster', 'only validate and render (no local cluster)')
    .option('--once', 'tear the cluster down after the demo')
    .option('--no-gitops', 'skip the Argo CD stage (it runs when scripts/build-argocd.sh has built Argo CD)')
    .option('--nodes <n>', 'number of node-agent nodes', '3')
    .option(
      '--real-nodes <mode>',
      'auto: run the demo on two real nodes (kubelet + containerd, the release images) when the node toolchain is built; on; off',
      'auto',
    )
    .action(async (opts: StartOptions) => {
      process.exitCode = await runStart(opts);
    });
}
