import type { V1Container, V1Pod, V1Volume } from '@kubernetes/client-node';
import { chmodSync, existsSync, lstatSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { VolumePayload, writeAtomically } from './atomic-writer';
import { isFileProjectionVolume, VolumeNotReadyError } from './volume-payload';

/**
 * The on-disk side of a pod. Containers are host processes, not chrooted, so a volumeMount cannot
 * change what a path means to them. Instead each container gets a root directory in which every
 * mountPath is a symlink to the volume's host directory:
 *
 *   <podDir>/volumes/<volume>/                  emptyDir, or the atomic-writer tree of configMap/secret/...
 *   <podDir>/rootfs/<container>/<mountPath>  -> the volume directory (or its subPath), or a hostPath
 *   <podDir>/logs/<container>/<restart>.log     stdout+stderr of each run
 *   <podDir>/logs/sandbox.log                    the pod's namespace holder
 *
 * Processes receive NEONVM_POD_ROOT=<podDir>/rootfs/<container>; path-aware programs (the NeonVM runner)
 * resolve an in-container path P as $NEONVM_POD_ROOT/P. Plain programs can be pointed at mounted files
 * with $(NEONVM_POD_ROOT) in args or env.
 *
 * A container runtime gives each container its own /tmp; host processes share the host's. So each pod
 * gets a private, short temp directory (TMPDIR for its processes, removed with the pod) and whatever a
 * container leaves there -- e.g. the runner's unix sockets after a SIGKILL -- goes with the pod. It is
 * outside <podDir> because pod directories are too deep for unix socket paths (108 bytes).
 */
export class PodFilesystem {
  constructor(
    readonly podDir: string,
    readonly tmpDir: string,
  ) {}

  volumeDir(name: string): string {
    return join(this.podDir, 'volumes', name);
  }

  containerRoot(container: string): string {
    return join(this.podDir, 'rootfs', container);
  }

  logFile(container: string, restartCount: number): string {
    return join(this.podDir, 'logs', container, `${restartCount}.log`);
  }

  /** Output of the pod's namespace holder (pod-namespaces.ts); the directory is created here. */
  sandboxLogFile(): string {
    mkdirSync(join(this.podDir, 'logs'), { recursive: true });
    return join(this.podDir, 'logs', 'sandbox.log');
  }

  /** Creates or refreshes every volume; `payload` computes the files of projection volumes. */
  setupVolumes(pod: V1Pod, payload: (volume: V1Volume) => VolumePayload): void {
    for (const volume of pod.spec?.volumes ?? []) {
      if (volume.emptyDir) mkdirSync(this.volumeDir(volume.name), { recursive: true });
      else if (volume.hostPath) prepareHostPath(volume.hostPath.path, volume.hostPath.type);
      else if (isFileProjectionVolume(volume)) writeAtomically(this.volumeDir(volume.name), payload(volume));
      else throw new VolumeNotReadyError(`volume ${volume.name}: type not supported by the local node agent`);
    }
  }

  /** Rewrites projection volumes whose source changed (atomic; no-op when unchanged). */
  refreshProjections(pod: V1Pod, payload: (volume: V1Volume) => VolumePayload): void {
    for (const volume of pod.spec?.volumes ?? []) {
      if (isFileProjectionVolume(volume)) writeAtomically(this.volumeDir(volume.name), payload(volume));
    }
  }

  /** Builds the container's root: one symlink per volumeMount. Returns the root directory. */
  prepareContainerRoot(pod: V1Pod, container: V1Container): string {
    const root = this.containerRoot(container.name);
    mkdirSync(root, { recursive: true });
    for (const mount of container.volumeMounts ?? []) {
      const volume = pod.spec?.volumes?.find((v) => v.name === mount.name);
      if (!volume) throw new VolumeNotReadyError(`volumeMount ${mount.name}: no such volume`);
      const base = volume.hostPath ? volume.hostPath.path : this.volumeDir(volume.name);
      const target = mount.subPath ? join(base, safeRelative(mount.subPath)) : base;
      if (mount.subPath) mkdirSync(target, { recursive: true });
      const link = join(root, safeRelative(mount.mountPath));
      mkdirSync(dirname(link), { recursive: true });
      if (existsOrLink(link)) rmSync(link, { recursive: true, force: true });
      symlinkSync(target, link);
    }
    for (const dir of ['logs', 'rootfs']) mkdirSync(join(this.podDir, dir), { recursive: true });
    mkdirSync(join(this.podDir, 'logs', container.name), { recursive: true });
    mkdirSync(this.tmpDir, { recursive: true });
    chmodSync(this.tmpDir, 0o1777); // like /tmp: containers may run as any user
    return root;
  }

  remove(): void {
    rmSync(this.podDir, { recursive: true, force: true });
    rmSync(this.tmpDir, { recursive: true, force: true });
  }
}

/** An in-container path as a path relative to a root, refusing to climb out of it. */
export function safeRelative(path: string): string {
  const rel = normalize(path).replace(/^\/+/, '');
  if (rel === '..' || rel.startsWith('../'))
    throw new VolumeNotReadyError(`path ${path} escapes the pod root`);
  return rel;
}

function existsOrLink(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function prepareHostPath(path: string, type: string | undefined): void {
  if (existsSync(path)) return;
  if (type === 'DirectoryOrCreate' || !type) mkdirSync(path, { recursive: true });
  else throw new VolumeNotReadyError(`hostPath ${path} (${type}) does not exist`);
}
