/**
 * Images a real node needs that no registry here can serve, written without Docker with image/oci's
 * writer and saved as `docker save` tars (what `ctr images import` and `docker load` read):
 * - the pause image: the static `pause` binary of the node toolchain (compiled from
 *   k8s.io/kubernetes build/pause), entrypoint /pause, user 65535 like upstream's registry.k8s.io/pause;
 * - a busybox image for tests: Debian's busybox-static with its applets, as a plain pod workload.
 * Both are cached under ${NEONVM_CACHE}/node-images/, keyed by the content they are made of.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot, downloadPackages, ensureCacheDir, extractDeb, runText } from '../../host';
import { ContainerConfig, LayerEntry, Platform, writeDockerArchive, writeImageLayout } from '../oci';

/** An image as a `docker save` tar and the reference it is tagged with inside the tar. */
export interface ImageArchive {
  readonly ref: string;
  readonly archive: string;
}

export const PAUSE_IMAGE_REF = 'neonvm.local/pause:3.10.2';
export const TEST_BUSYBOX_IMAGE_REF = 'neonvm.local/test-busybox:1';

const AMD64: Platform = { os: 'linux', architecture: 'amd64' };

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Writes layout + tar into the cache (once per key) and returns the tar. */
async function cachedArchive(
  key: string,
  ref: string,
  layers: readonly (readonly LayerEntry[])[],
  config: ContainerConfig,
  root: string,
): Promise<ImageArchive> {
  const dir = await ensureCacheDir(join(root, 'node-images', key), async (tmp) => {
    const layout = join(tmp, 'layout');
    await writeImageLayout(layout, [{ platform: AMD64, layers, config, refName: ref.split(':').pop() }]);
    await writeDockerArchive(layout, join(tmp, 'image.tar'), { repoTags: [[ref]] });
  });
  return { ref, archive: join(dir, 'image.tar') };
}

/** The sandbox (pause) image from the toolchain's static pause binary. */
export function ensurePauseImage(pauseBinary: string, root: string = cacheRoot()): Promise<ImageArchive> {
  const layers: LayerEntry[][] = [
    [
      {
        kind: 'host-file',
        path: 'pause',
        source: pauseBinary,
        size: statSync(pauseBinary).size,
        mode: 0o755,
      },
    ],
  ];
  const config: ContainerConfig = { Entrypoint: ['/pause'], User: '65535:65535' };
  return cachedArchive(
    `pause-${sha256File(pauseBinary).slice(0, 16)}`,
    PAUSE_IMAGE_REF,
    layers,
    config,
    root,
  );
}

/** Debian's busybox-static binary for `arch` (amd64 or arm64), downloaded and unpacked once. */
async function ensureBusyboxStatic(root: string, arch = 'amd64'): Promise<string> {
  const key = arch === 'amd64' ? 'busybox-static-deb' : `busybox-static-deb-${arch}`;
  const dir = await ensureCacheDir(join(root, 'node-images', key), async (tmp) => {
    const debs = await downloadPackages(['busybox-static'], arch, tmp);
    for (const deb of debs) await extractDeb(deb, join(tmp, 'root'));
  });
  return join(dir, 'root', 'bin', 'busybox');
}

/**
 * A busybox userland as layer entries: /bin/busybox (Debian's busybox-static for `arch`) and one
 * symlink per applet at the path busybox lists (`--list-full`; the list is the host build's, from the
 * same Debian package version, since a foreign binary cannot run here).
 */
export async function busyboxUserland(arch = 'amd64', root: string = cacheRoot()): Promise<LayerEntry[]> {
  const lister = await ensureBusyboxStatic(root);
  const busybox = arch === 'amd64' ? lister : await ensureBusyboxStatic(root, arch);
  const applets = (await runText([lister, '--list-full']))
    .split('\n')
    .filter((a) => a && a !== 'bin/busybox');
  return [
    { kind: 'host-file', path: 'bin/busybox', source: busybox, size: statSync(busybox).size, mode: 0o755 },
    ...applets.map((a): LayerEntry => ({ kind: 'symlink', path: a, target: '/bin/busybox' })),
  ];
}

/**
 * A busybox image: /bin/busybox and one symlink per applet at the path busybox itself lists
 * (`--list-full`), /etc/passwd and /etc/group, a world-writable /tmp. Entrypoint-less, Cmd `sh`.
 */
export async function ensureTestBusyboxImage(root: string = cacheRoot()): Promise<ImageArchive> {
  const busybox = await ensureBusyboxStatic(root);
  const layers: LayerEntry[][] = [
    [
      ...(await busyboxUserland('amd64', root)),
      {
        kind: 'file',
        path: 'etc/passwd',
        content: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n',
      },
      { kind: 'file', path: 'etc/group', content: 'root:x:0:\nnogroup:x:65534:\n' },
      { kind: 'dir', path: 'tmp', mode: 0o1777 },
      { kind: 'dir', path: 'root', mode: 0o700 },
    ],
  ];
  const config: ContainerConfig = { Cmd: ['sh'], Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'] };
  const key = `test-busybox-${sha256File(busybox).slice(0, 16)}`;
  return cachedArchive(key, TEST_BUSYBOX_IMAGE_REF, layers, config, root);
}
