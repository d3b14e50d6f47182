/**
 * Where the locally built Pulumi CLI and Kubernetes provider live (scripts/build-pulumi.sh), and the
 * one-time plugin registration in our own PULUMI_HOME. Never downloads anything.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { cacheRoot, isComplete } from '../../host';

export const PULUMI_CLI_VERSION = 'v3.276.0';
/** Must equal the @pulumi/kubernetes SDK version: the SDK asks for the plugin at its own version. */
export const KUBERNETES_PROVIDER_VERSION = '4.25.0';

export interface PulumiToolchain {
  /** Installation root: `<root>/bin/pulumi` (what `PulumiCommand.get({root})` expects). */
  readonly root: string;
  readonly pulumi: string;
  readonly provider: string;
  /** PULUMI_HOME (plugins, credentials) inside the cache, never ~/.pulumi. */
  readonly home: string;
}

export function pulumiCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), `pulumi-${PULUMI_CLI_VERSION}-k8s-v${KUBERNETES_PROVIDER_VERSION}`);
}

/**
 * The toolchain if build-pulumi.sh completed (a half-written cache has no `.complete`), or the bin
 * directory in `PULUMI_BIN` (what `scripts/test.sh` exports from the build script's last line).
 */
export function findPulumiToolchain(env: NodeJS.ProcessEnv = process.env): PulumiToolchain | undefined {
  if (env.PULUMI_BIN) {
    const root = dirname(env.PULUMI_BIN);
    const pulumi = join(env.PULUMI_BIN, 'pulumi');
    const provider = join(env.PULUMI_BIN, 'pulumi-resource-kubernetes');
    if (existsSync(pulumi) && existsSync(provider) && basename(env.PULUMI_BIN) === 'bin') {
      return { root, pulumi, provider, home: join(root, 'home') };
    }
  }
  const root = pulumiCacheDir(env);
  const pulumi = join(root, 'bin', 'pulumi');
  const provider = join(root, 'bin', 'pulumi-resource-kubernetes');
  if (!isComplete(root) || !existsSync(pulumi) || !existsSync(provider)) return undefined;
  return { root, pulumi, provider, home: join(root, 'home') };
}

/** Environment for every CLI invocation: no update checks, no plugin downloads, our PULUMI_HOME. */
export function pulumiEnv(toolchain: PulumiToolchain, passphrase = 'neonvm-local'): Record<string, string> {
  return {
    PULUMI_HOME: toolchain.home,
    PULUMI_SKIP_UPDATE_CHECK: 'true',
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
    PULUMI_CONFIG_PASSPHRASE: passphrase,
    PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: 'true',
  };
}

/** Registers the provider binary as plugin `resource-kubernetes-v4.25.0` once (idempotent). */
export async function ensureKubernetesPlugin(toolchain: PulumiToolchain): Promise<void> {
  const plugins = join(toolchain.home, 'plugins');
  const name = `resource-kubernetes-v${KUBERNETES_PROVIDER_VERSION}`;
  if (existsSync(plugins) && readdirSync(plugins).includes(name)) return;
  await promisify(execFile)(
    toolchain.pulumi,
    [
      'plugin',
      'install',
      'resource',
      'kubernetes',
      KUBERNETES_PROVIDER_VERSION,
      '--file',
      toolchain.provider,
    ],
    {
      env: { ...process.env, ...pulumiEnv(toolchain) },
    },
  );
}
