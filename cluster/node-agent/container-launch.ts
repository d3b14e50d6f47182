import type { V1Container } from '@kubernetes/client-node';
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { ImageManifest } from '../image-store';

/** The host PATH entry that resolves `program`, or undefined (the runtime's "executable file not found"). */
export function findExecutable(program: string, pathVar: string | undefined): string | undefined {
  const executable = (file: string): boolean => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (program.includes('/')) return executable(program) ? program : undefined;
  for (const dir of (pathVar ?? '').split(':').filter(Boolean)) {
    const candidate = join(dir, program);
    if (executable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * The process's working directory. An in-container path is looked up in the container root first (it
 * may be a mount), then on the host; otherwise it is created inside the root. Without one, the process
 * starts in the container root, where relative paths reach its mounts.
 */
export function resolveWorkingDir(workingDir: string | undefined, root: string): string {
  if (!workingDir) return root;
  if (!isAbsolute(workingDir)) return join(root, workingDir);
  const inRoot = join(root, workingDir);
  if (existsSync(inRoot)) return inRoot;
  if (existsSync(workingDir)) return workingDir;
  mkdirSync(inRoot, { recursive: true });
  return inRoot;
}

/** Variables the agent adds for every container, on top of the image's and the pod spec's. */
export interface AgentEnv {
  podName: string;
  podIP: string;
  containerRoot: string;
  /** The pod's private temp directory, as TMPDIR (a runtime would give the container its own /tmp). */
  tmpDir: string;
  image: ImageManifest;
}

/**
 * The final environment: a minimal base (PATH from the agent, since host binaries are the "image"),
 * then the resolved Kubernetes env, then NEONVM_* variables that describe the pod filesystem mapping.
 */
export function processEnv(
  resolved: Readonly<Record<string, string>>,
  agent: AgentEnv,
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: '/root',
    HOSTNAME: agent.podName,
    TMPDIR: agent.tmpDir,
    ...resolved,
    NEONVM_POD_ROOT: agent.containerRoot,
    NEONVM_POD_IP: agent.podIP,
    ...(agent.image.files ? { NEONVM_IMAGE_FILES: agent.image.files } : {}),
  };
}

/** A container as the agent runs it: what to exec, where, with what. */
export interface LaunchPlan {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
}

export type LaunchProblem = { reason: 'StartError'; message: string };

export function checkLaunchable(plan: LaunchPlan, container: V1Container): LaunchProblem | undefined {
  const program = plan.argv[0];
  if (!program)
    return {
      reason: 'StartError',
      message: `container ${container.name}: no command (image has no entrypoint)`,
    };
  if (!findExecutable(program, plan.env.PATH)) {
    return { reason: 'StartError', message: `exec: "${program}": executable file not found in $PATH` };
  }
  return undefined;
}
