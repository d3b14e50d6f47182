import type { V1Container } from '@kubernetes/client-node';

/**
 * A local "image": how to run a container of this image as a host process. Mirrors the parts of an OCI
 * image config that matter to a process (Entrypoint, Cmd, Env, WorkingDir).
 */
export interface ImageManifest {
  /** Program and leading arguments (OCI Entrypoint); may be empty when `cmd` carries the program. */
  entrypoint: string[];
  /** Default arguments (OCI Cmd), replaced by the container's `args`. */
  cmd?: string[];
  env?: Record<string, string>;
  /** Default working directory (the container's `workingDir` wins). */
  workingDir?: string;
  /** A host directory holding the image's files; exposed to processes as NEONVM_IMAGE_FILES. */
  files?: string;
}

/**
 * The argv Kubernetes runs for a container: `command` replaces the entrypoint (and drops the image's
 * cmd), `args` replaces the cmd.
 */
export function containerArgv(
  manifest: ImageManifest,
  container: Pick<V1Container, 'command' | 'args'>,
): string[] {
  if (container.command && container.command.length > 0)
    return [...container.command, ...(container.args ?? [])];
  return [...manifest.entrypoint, ...(container.args ?? manifest.cmd ?? [])];
}

export function isImageManifest(value: unknown): value is ImageManifest {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  const strings = (x: unknown): boolean => Array.isArray(x) && x.every((s) => typeof s === 'string');
  return (
    strings(v.entrypoint) &&
    (v.cmd === undefined || strings(v.cmd)) &&
    (v.workingDir === undefined || typeof v.workingDir === 'string') &&
    (v.files === undefined || typeof v.files === 'string') &&
    (v.env === undefined ||
      (typeof v.env === 'object' && Object.values(v.env as object).every((s) => typeof s === 'string')))
  );
}
