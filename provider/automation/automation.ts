/**
 * Runs a Pulumi program through the Automation API with an inline program: the Node process serves
 * the language runtime itself, so no `pulumi-language-nodejs` is needed (none can be built here).
 * State lives in a file backend; the CLI and provider come from the local build (pulumi-toolchain.ts).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  LocalWorkspace,
  PulumiCommand,
  type OutputMap,
  type PulumiFn,
  type Stack,
} from '@pulumi/pulumi/automation';
import {
  ensureKubernetesPlugin,
  findPulumiToolchain,
  pulumiEnv,
  type PulumiToolchain,
} from './pulumi-toolchain';

export type PulumiAction = 'up' | 'preview' | 'destroy';

export interface InlineStackOptions {
  readonly program: PulumiFn;
  /**
   * @default 'neonvm-examples'
   */
  readonly projectName?: string;
  /**
   * @default 'dev'
   */
  readonly stackName?: string;
  /**
   * File-backend directory for the state.
   * @default <toolchain>/state
   */
  readonly stateDir?: string;
  /**
   * Kubeconfig the Kubernetes provider uses.
   * @default - KUBECONFIG / ~/.kube/config
   */
  readonly kubeconfig?: string;
  /** Progress lines (the engine's event stream as text). */
  readonly onOutput?: (text: string) => void;
  /**
   * @default findPulumiToolchain()
   */
  readonly toolchain?: PulumiToolchain;
}

export interface PulumiRunResult {
  readonly action: PulumiAction;
  /** Resource operation counts (`create`, `delete`, `same`, ...). */
  readonly changes: Readonly<Record<string, number>>;
  readonly outputs: OutputMap;
  readonly durationMs: number;
}

/** The locally built Pulumi CLI and Kubernetes provider are missing: says how to build them. */
export class PulumiToolchainMissingError extends Error {
  constructor() {
    super(
      'the Pulumi CLI and Kubernetes provider are not built: run scripts/build-pulumi.sh (30-50 min, cached afterwards)',
    );
    this.name = 'PulumiToolchainMissingError';
  }
}

/**
 * Opens the stack in `workDir` (Pulumi.yaml and friends). Without one, Pulumi's LocalWorkspace makes
 * an `automation-*` temp directory per call and never removes it; runInlineProgram passes its own.
 */
export async function openInlineStack(options: InlineStackOptions, workDir?: string): Promise<Stack> {
  const toolchain = options.toolchain ?? findPulumiToolchain();
  if (!toolchain) throw new PulumiToolchainMissingError();
  await ensureKubernetesPlugin(toolchain);
  const stateDir = options.stateDir ?? join(toolchain.root, 'state');
  mkdirSync(stateDir, { recursive: true });
  const projectName = options.projectName ?? 'neonvm-examples';
  // The CLI gets these for every command and passes them on to the Kubernetes provider it starts.
  const env = { ...pulumiEnv(toolchain), ...(options.kubeconfig ? { KUBECONFIG: options.kubeconfig } : {}) };
  return LocalWorkspace.createOrSelectStack(
    { stackName: options.stackName ?? 'dev', projectName, program: options.program },
    {
      pulumiCommand: await PulumiCommand.get({ root: toolchain.root, skipVersionCheck: true }),
      pulumiHome: toolchain.home,
      projectSettings: { name: projectName, runtime: 'nodejs', backend: { url: `file://${stateDir}` } },
      envVars: env,
      ...(workDir ? { workDir } : {}),
    },
  );
}

export async function runInlineProgram(
  action: PulumiAction,
  options: InlineStackOptions,
): Promise<PulumiRunResult> {
  const workDir = mkdtempSync(join(tmpdir(), 'neonvm-pulumi-'));
  try {
    return await runInStack(action, await openInlineStack(options, workDir), options.onOutput);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

async function runInStack(
  action: PulumiAction,
  stack: Stack,
  onOutput: InlineStackOptions['onOutput'],
): Promise<PulumiRunResult> {
  const started = Date.now();
  switch (action) {
    case 'up': {
      const r = await stack.up({ onOutput });
      return {
        action,
        changes: r.summary.resourceChanges ?? {},
        outputs: r.outputs,
        durationMs: Date.now() - started,
      };
    }
    case 'preview': {
      const r = await stack.preview({ onOutput });
      return { action, changes: r.changeSummary, outputs: {}, durationMs: Date.now() - started };
    }
    case 'destroy': {
      const r = await stack.destroy({ onOutput });
      return {
        action,
        changes: r.summary.resourceChanges ?? {},
        outputs: {},
        durationMs: Date.now() - started,
      };
    }
  }
}
