/**
 * `neonvm image build|inspect`: upstream's vm-builder without Docker (see image/builder), and a look
 * into an image's platform, process and layers.
 */
import type { Command } from 'commander';
import { dirname, resolve } from 'node:path';
import { ImageStore } from '../../cluster/image-store';
import { buildVmImage, loadImageSpec, parseDiskSize } from '../../image/builder';
import { formatBytes, formatPlatform, openImage, parsePlatformString, runConfigOf } from '../../image/oci';

interface BuildFlags {
  tag: string[];
  platform?: string;
  name?: string;
  size?: string;
  spec?: string;
  output?: string;
  ociLayout?: string;
  dockerArchive?: string;
  quiet?: boolean;
  imageStore?: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerImage(program: Command): void {
  const image = program
    .command('image')
    .description('build VM root disk images (vm-builder) and inspect images');

  image
    .command('build')
    .description(
      'turn an image (OCI layout dir, docker-save/OCI tar) or a root filesystem (dir or tarball) into a bootable qcow2 root disk with the NeonVM guest',
    )
    .argument(
      '<source>',
      'OCI layout directory, docker-save or OCI archive, root filesystem directory or tarball',
    )
    .option(
      '-t, --tag <ref>',
      'store the disk in the local image store under this reference (repeatable)',
      collect,
      [],
    )
    .option(
      '--platform <os/arch>',
      'platform to pick from a multi-platform image, or of a root filesystem (linux/amd64, linux/arm64)',
    )
    .option('--name <ref.name>', 'image to pick from a layout or archive holding several')
    .option('--size <size>', 'root filesystem size, e.g. 1G, 2Gi (default: from the content)')
    .option('--spec <file>', 'image spec YAML: commands, shutdownHook, files (as upstream vm-builder)')
    .option('-o, --output <file>', 'also write the qcow2 disk to this file')
    .option('--oci-layout <dir>', 'also write an OCI image layout holding /disk.qcow2 (push it with skopeo)')
    .option('--docker-archive <file>', 'also write a docker-save archive of that image (docker load)')
    .option('-q, --quiet', 'no progress lines, only the summary')
    .option('--image-store <dir>', 'local image store (default: ${NEONVM_CACHE:-~/.cache/neonvm}/images)')
    .action(async (source: string, flags: BuildFlags) => {
      const spec = flags.spec ? loadImageSpec(flags.spec) : undefined;
      const lines: string[] = [];
      const result = await buildVmImage({
        source,
        tags: flags.tag,
        platform: flags.platform ? parsePlatformString(flags.platform) : undefined,
        refName: flags.name,
        sizeBytes: flags.size ? parseDiskSize(flags.size) : undefined,
        spec,
        specDir: flags.spec ? dirname(resolve(flags.spec)) : undefined,
        outputFile: flags.output,
        ociLayout: flags.ociLayout,
        dockerArchive: flags.dockerArchive,
        store: flags.imageStore ? new ImageStore(resolve(flags.imageStore)) : undefined,
        progress: (line) => (flags.quiet ? lines.push(line) : console.error(line)),
      });
      if (flags.quiet) console.error(lines[lines.length - 1]);
      console.log(
        JSON.stringify({
          refs: result.refs,
          disk: result.disk,
          digest: result.digest,
          platform: formatPlatform(result.platform),
          sourceBytes: result.sourceBytes,
          fsBytes: result.fsBytes,
          qcow2Bytes: result.qcow2Bytes,
          seconds: result.seconds,
        }),
      );
    });

  image
    .command('inspect')
    .description("print an image's platform, process (Entrypoint, Cmd, Env, WorkingDir, User) and layers")
    .argument('<source>', 'OCI layout directory or docker-save / OCI archive')
    .option('--platform <os/arch>', 'platform to pick from a multi-platform image')
    .option('--name <ref.name>', 'image to pick from a layout or archive holding several')
    .action(async (source: string, flags: { platform?: string; name?: string }) => {
      const img = await openImage(source, {
        platform: flags.platform ? parsePlatformString(flags.platform) : undefined,
        refName: flags.name,
      });
      try {
        const run = runConfigOf(img.config);
        console.log(`format:     ${img.format}`);
        console.log(`platform:   ${formatPlatform(img.platform)}`);
        if (img.manifestDigest) console.log(`manifest:   ${img.manifestDigest}`);
        console.log(`config:     ${img.configDigest}`);
        if (img.refNames.length) console.log(`names:      ${img.refNames.join(', ')}`);
        console.log(`entrypoint: ${JSON.stringify(run.entrypoint)}`);
        console.log(`cmd:        ${JSON.stringify(run.cmd)}`);
        console.log(`env:        ${JSON.stringify(run.env)}`);
        console.log(`workingDir: ${run.workingDir}`);
        console.log(`user:       ${run.user}`);
        for (const [i, l] of img.layers.entries()) {
          console.log(`layer ${i + 1}:    ${l.digest ?? l.path} ${formatBytes(l.size)}`);
        }
      } finally {
        await img.close();
      }
    });
}
