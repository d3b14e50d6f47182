/**
 * The runtime configuration disk the guest reads at boot (ISO9660, volume id `vmruntime`): pure
 * file generation from a typed config, plus writing it with genisoimage.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CpuScalingMode } from '../crds';
import { run } from '../host';
import { RUNTIME_FILES, RUNTIME_ISO_LABEL } from './guest-scripts';

export interface RuntimeConfig {
  /** Workload command (argv); quoted into command.sh. */
  readonly command?: readonly string[];
  /** Workload arguments (argv); quoted into args.sh. */
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** `key=value` lines for sysctl -p. */
  readonly sysctl?: readonly string[];
  /** Shell run by sysinit before services start (disk mounts, swap). */
  readonly mountsScript?: string;
  readonly cpuScalingMode?: CpuScalingMode;
  /** Shell run at shutdown, before processes are killed. */
  readonly shutdownHook?: string;
}

/** POSIX shell single-quoting: safe for any string, including quotes and newlines. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** File name → content of the runtime ISO (only the files that apply). */
export function runtimeIsoFiles(cfg: RuntimeConfig): Record<string, string> {
  const files: Record<string, string> = {};
  if (cfg.command?.length) files[RUNTIME_FILES.command] = cfg.command.map(shellQuote).join(' ');
  if (cfg.args?.length) files[RUNTIME_FILES.args] = cfg.args.map(shellQuote).join(' ');
  if (cfg.env && Object.keys(cfg.env).length > 0) {
    files[RUNTIME_FILES.env] = Object.entries(cfg.env)
      .map(([k, v]) => {
        if (!ENV_NAME.test(k)) throw new Error(`invalid environment variable name ${JSON.stringify(k)}`);
        return `export ${k}=${shellQuote(v)}\n`;
      })
      .join('');
  }
  if (cfg.sysctl?.length) files[RUNTIME_FILES.sysctl] = cfg.sysctl.join('\n') + '\n';
  if (cfg.mountsScript !== undefined) files[RUNTIME_FILES.mounts] = cfg.mountsScript;
  if (cfg.cpuScalingMode) files[RUNTIME_FILES.cpuScalingMode] = cfg.cpuScalingMode + '\n';
  if (cfg.shutdownHook !== undefined) files[RUNTIME_FILES.shutdownHook] = cfg.shutdownHook;
  return files;
}

/**
 * Writes an ISO9660 image with Rock Ridge names (so `cpu-scaling-mode` keeps its name) and the
 * given volume id. Used for the runtime disk and the `ssh-authorized-keys` disk.
 */
export async function writeIso(
  path: string,
  label: string,
  files: Readonly<Record<string, string | Buffer>>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'neonvm-iso-'));
  try {
    for (const [name, content] of Object.entries(files)) {
      if (name.includes('/')) throw new Error(`ISO file names must be flat: ${name}`);
      await writeFile(join(dir, name), content, { mode: 0o644 });
    }
    await run(['genisoimage', '-quiet', '-input-charset', 'utf-8', '-V', label, '-R', '-o', path, dir]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function writeRuntimeIso(path: string, cfg: RuntimeConfig): Promise<void> {
  return writeIso(path, RUNTIME_ISO_LABEL, runtimeIsoFiles(cfg));
}
