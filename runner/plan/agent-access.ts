/**
 * What the guest agent allows, decided by the runner and written to the runtime disk (readable by
 * root only in the guest): the bearer token every agent request must carry, and the directories its
 * `/files` may write — the watched configMap/secret disks' mountPaths, nothing else.
 *
 * The token is derived from the runner API's per-VM token (HMAC-SHA256 with a fixed context), not
 * drawn at random: a migration target runner must speak to the guest the source booted, and both
 * pods mount the same runner-token Secret. Knowing it grants nothing new: whoever holds the runner
 * token already controls the VM through the runner API. Pure.
 */
import { createHmac } from 'node:crypto';
import { posix } from 'node:path';
import type { VirtualMachineSpec } from '../../crds';
import { RUNTIME_FILES } from '../../guest';
import { effectiveDisks, type RuntimeFile } from './runtime-files';

const TOKEN_CONTEXT = 'neonvm guest agent token v1';

/** The guest agent's token for a VM whose runner API token is runnerApiToken (non-empty). */
export function deriveAgentToken(runnerApiToken: string): string {
  if (runnerApiToken.length === 0) throw new Error('deriveAgentToken: empty runner API token');
  return createHmac('sha256', runnerApiToken).update(TOKEN_CONTEXT).digest('hex');
}

/** A directory the agent may sync files into, with the mode of the files it writes there. */
export interface FilesRoot {
  readonly path: string;
  readonly fileMode: number;
}

/** The TLS key's directory: root-only (0600), like a private key on any server. */
export const TLS_FILE_MODE = 0o600;
/** Other watched disks: as their ISO-mounted (unwatched) counterparts, `mode=0644`. */
export const SYNCED_FILE_MODE = 0o644;

/** A disk's mountPath as the agent's URL path and root: normalised, without a trailing slash. */
export function guestDir(mountPath: string): string {
  const p = posix.normalize(mountPath);
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

/** The watched configMap/secret disks' directories (spec.tls's included); `/` never. */
export function filesRoots(spec: VirtualMachineSpec): FilesRoot[] {
  const roots: FilesRoot[] = [];
  for (const disk of effectiveDisks(spec)) {
    if (!disk.watch || !(disk.configMap || disk.secret)) continue;
    const path = guestDir(disk.mountPath);
    if (path === '/' || !path.startsWith('/')) continue; // the agent refuses such a root
    const tls = disk.name === 'tls-keys' && spec.tls !== undefined;
    roots.push({ path, fileMode: tls ? TLS_FILE_MODE : SYNCED_FILE_MODE });
  }
  return roots;
}

/** The runtime disk's files for the agent: its token and files-roots.json. */
export function agentAccessFiles(spec: VirtualMachineSpec, agentToken: string): RuntimeFile[] {
  return [
    { name: RUNTIME_FILES.agentToken, content: agentToken + '\n' },
    { name: RUNTIME_FILES.filesRoots, content: JSON.stringify({ roots: filesRoots(spec) }) + '\n' },
  ];
}
