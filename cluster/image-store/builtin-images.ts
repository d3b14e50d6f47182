import { ImageStore } from './image-store';
import type { ImageManifest } from './image-manifest';

/**
 * Images every local cluster has, for tests and examples. They run host programs, so they depend only
 * on what a Debian machine with Node has: /bin/sh and the node binary running this process.
 */
export const BUILTIN_IMAGES: Readonly<Record<string, ImageManifest>> = {
  // busybox-like: `command: [sh, -c, ...]` works; with no command it runs a shell that exits at once.
  'neonvm-test/shell:latest': { entrypoint: [], cmd: ['/bin/sh'] },
  'busybox:latest': { entrypoint: [], cmd: ['/bin/sh'] },
  // Node.js: `args: [-e, "..."]` or a script path.
  'neonvm-test/node:latest': {
    entrypoint: [process.execPath],
    cmd: ['-e', 'setInterval(() => {}, 1 << 30)'],
  },
  // Sleeps until terminated, then exits 0 (a pause container for tests that only need a pod to exist).
  // One sleep waited for rather than `sleep 1` in a loop: fifty idle pods forked fifty processes a
  // second. The trap runs as soon as TERM arrives (wait returns for a trapped signal).
  'neonvm-test/pause:latest': {
    entrypoint: ['/bin/sh', '-c', 'trap "exit 0" TERM; sleep infinity & wait'],
  },
};

export function registerBuiltinImages(store: ImageStore): void {
  for (const [ref, manifest] of Object.entries(BUILTIN_IMAGES)) store.register(ref, manifest);
}
