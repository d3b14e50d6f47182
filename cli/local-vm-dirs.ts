/** Where `neonvm run` keeps a local VM (its pod root), and how console/ssh find a running runner. */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readRunnerInfo, type RunnerInfo } from '../runner/lifecycle';

export function localVmsRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.NEONVM_STATE || join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'neonvm', 'vms');
}

/** The pod root of a `neonvm run` VM. */
export function localVmDir(name: string): string {
  return join(localVmsRoot(), name);
}

/**
 * Finds runner.json for a VM name (a `neonvm run` VM) or a directory: a runner state dir, or a
 * pod root (its state is in vm/runner).
 */
export async function findRunner(target: { name?: string; dir?: string }): Promise<RunnerInfo> {
  const base = target.dir ?? (target.name ? localVmDir(target.name) : undefined);
  if (!base) throw new Error('give a VM name or --dir <runner state dir or pod root>');
  for (const candidate of [join(base, 'runner.json'), join(base, 'vm', 'runner', 'runner.json')]) {
    if (existsSync(candidate)) return readRunnerInfo(candidate);
  }
  throw new Error(`no running VM found in ${base} (no runner.json)`);
}
