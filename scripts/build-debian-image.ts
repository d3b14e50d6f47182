/**
 * Builds (or finds cached) the Debian 12 guest image and registers it in the local image store as
 * `neondatabase/vm-debian:11` and `neonvm/vm-debian:12`: `npx tsx scripts/build-debian-image.ts
 * [--force]`. Needs root (debootstrap) the first time; progress lines on stderr.
 */
import { ensureDebianImage } from '../image/debian';

ensureDebianImage({ force: process.argv.includes('--force') })
  .then((img) => console.log(JSON.stringify({ refs: img.refs, disk: img.disk, rootfs: img.rootfs })))
  .catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exitCode = 1;
  });
