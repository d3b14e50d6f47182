/**
 * `npm run build:images`: the operator, runner and device plugin images as OCI layouts (dist/images/<name>) and
 * `docker save` tars (dist/images/<name>.tar), built without Docker from Debian packages, the npm
 * registry's Node.js binaries and this checkout; then dist/install/neonvm.yaml pinning them by
 * digest. Flags: `--arch amd64,arm64` (default; the operator is built for the same list),
 * `--registry <prefix>` (default `ghcr.io/neonvm-ts`), `--out <dir>` (default dist),
 * `--manifest-only` (re-render the install manifest for another registry from the built layouts),
 * `--qemu backports|debian` (the runner's QEMU: bookworm-backports' newest, the default, resolved now
 * and recorded in the image, or Debian 12's 7.2; default from NEONVM_RELEASE_QEMU).
 */
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { cacheRoot } from '../host';
import {
  QEMU_SOURCE_ENV,
  buildRelease,
  imageRefsFromDist,
  parseQemuSource,
  writeInstallManifest,
} from '../release';
import type { GuestArch } from '../guest';

function parseArchs(v: string): GuestArch[] {
  return v.split(',').map((a) => {
    if (a !== 'amd64' && a !== 'arm64') throw new Error(`--arch: ${a} is not amd64 or arm64`);
    return a;
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      arch: { type: 'string', default: 'amd64,arm64' },
      registry: { type: 'string', default: 'ghcr.io/neonvm-ts' },
      out: { type: 'string', default: 'dist' },
      'manifest-only': { type: 'boolean', default: false },
      qemu: { type: 'string' },
    },
  });
  const qemu =
    values.qemu !== undefined
      ? parseQemuSource(values.qemu, '--qemu')
      : parseQemuSource(process.env[QEMU_SOURCE_ENV], QEMU_SOURCE_ENV);
  const manifest = join(values.out, 'install', 'neonvm.yaml');
  if (values['manifest-only']) {
    await writeInstallManifest(
      manifest,
      await imageRefsFromDist(join(values.out, 'images'), values.registry),
    );
    console.log(`install manifest: ${manifest}`);
    return;
  }
  const repoDir = resolve(__dirname, '..');
  const started = Date.now();
  const result = await buildRelease({
    repoDir,
    outDir: resolve(values.out),
    archs: parseArchs(values.arch),
    registry: values.registry,
    cacheDir: cacheRoot(),
    progress: (line) => console.error(`build-images: ${line}`),
    qemu,
  });
  const mib = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  console.log(`built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  for (const img of result.images)
    console.log(
      `${img.name.padEnd(13)} ${img.digest}  layout ${mib(img.layoutBytes)}  tar ${mib(img.archiveBytes)}  inputs ${mib(img.inputBytes)}  ${img.ref}` +
        Object.entries(img.qemuVersions)
          .map(([arch, v]) => `  qemu ${arch} ${v}`)
          .join(''),
    );
  console.log(`install manifest: ${manifest}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exitCode = 1;
});
