/**
 * The release images, built twice from the same checkout: same digests; skopeo and umoci accept
 * the layouts; the unpacked rootfs runs the image's own node and QEMU: the runner image boots a VM
 * in a pod network namespace, the operator image reconciles a VM on the local cluster, the device
 * plugin image registers with the kubelet's side of the device plugin protocol. Needs root
 * (chroot, namespaces) and the Debian tools skopeo/umoci.
 */
import { cacheRoot } from '../../host';
import { describeIf } from '../../host/testing';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  NODE_VERSION,
  QEMU_SOURCE_ENV,
  buildRelease,
  parseQemuSource,
  readBuildInfo,
  type ReleaseResult,
} from '../../release';
import { operatorImageReconcilesVm, runnerImageRunsVm } from './image-run';
import { devicePluginImageServes } from './device-plugin-image';

const repoDir = resolve(__dirname, '../..');
const missing = ['skopeo', 'umoci', 'unshare'].filter((t) => spawnSync('which', [t]).status !== 0);
const suite = describeIf(
  process.getuid?.() === 0 && missing.length === 0,
  process.getuid?.() !== 0
    ? 'needs root (unpacks and runs the images)'
    : `missing tools: ${missing.join(', ')}`,
);

function sh(argv: string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return r.stdout;
}

/** Runs argv inside rootfs (own mount namespace with /dev and /proc, a clean environment). */
function inRootfs(rootfs: string, argv: string[]): string[] {
  const script = `mount --rbind /dev "$1/dev" && mount -t proc proc "$1/proc" && shift && exec chroot "$@"`;
  return ['unshare', '--mount', '--fork', '--kill-child', 'sh', '-c', script, 'sh', rootfs, rootfs, ...argv];
}

const cleanEnv = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };

suite('release images', () => {
  let work: string;
  let first: ReleaseResult;
  let second: ReleaseResult;
  const dist = (): string => join(work, 'a', 'images');

  beforeAll(async () => {
    const info = {
      ...(await readBuildInfo(repoDir)),
      revision: 'test',
      created: new Date('2026-01-01T00:00:00Z'),
    };
    work = mkdtempSync(join(tmpdir(), 'neonvm-release-test-'));
    const build = (out: string) =>
      buildRelease({
        repoDir,
        outDir: join(work, out),
        archs: ['amd64'],
        registry: 'registry.test/neonvm',
        cacheDir: cacheRoot(),
        progress: () => undefined,
        // Fixed, so commits landing between the two builds do not change the labels.
        info,
        // The runner's QEMU as a release build would choose it (NEONVM_RELEASE_QEMU=backports: QEMU 10).
        qemu: parseQemuSource(process.env[QEMU_SOURCE_ENV], QEMU_SOURCE_ENV),
      });
    first = await build('a');
    second = await build('b');
  }, 1_200_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('gives the same digests for the same inputs', () => {
    expect(second.images.map((i) => i.digest)).toEqual(first.images.map((i) => i.digest));
  });

  it('passes skopeo inspect (index and per-platform tags)', () => {
    for (const name of ['operator', 'runner', 'device-plugin']) {
      const out = JSON.parse(sh(['skopeo', 'inspect', `oci:${join(dist(), name)}:0.1.0-amd64`])) as {
        Architecture: string;
        Labels: Record<string, string>;
      };
      expect(out.Architecture).toBe('amd64');
      expect(out.Labels['org.opencontainers.image.title']).toBe(`neonvm-${name}`);
      sh(['skopeo', 'inspect', '--raw', `oci:${join(dist(), name)}:0.1.0`]);
    }
  });

  it('keeps the pinned digest through skopeo copy --all --preserve-digests (what a push does)', () => {
    const copy = join(work, 'copy');
    sh([
      'skopeo',
      'copy',
      '-q',
      '--all',
      '--preserve-digests',
      `oci:${join(dist(), 'runner')}:0.1.0`,
      `oci:${copy}:pushed`,
    ]);
    const index = JSON.parse(sh(['cat', join(copy, 'index.json')])) as { manifests: { digest: string }[] };
    expect(index.manifests[0].digest).toBe(first.images.find((i) => i.name === 'runner')?.digest);
  });

  it('pins the built digests in the install manifest', () => {
    const yaml = sh(['cat', first.installManifest]);
    for (const img of first.images)
      expect(yaml).toContain(`registry.test/neonvm/neonvm-${img.name}@${img.digest}`);
  });

  describe('unpacked', () => {
    const bundle = (name: string) => join(work, `bundle-${name}`);
    beforeAll(() => {
      for (const name of ['operator', 'runner', 'device-plugin'])
        sh(['umoci', 'unpack', '--rootless', '--image', `${join(dist(), name)}:0.1.0-amd64`, bundle(name)]);
    }, 600_000);

    it('runs the operator with the image own node', () => {
      const rootfs = join(bundle('operator'), 'rootfs');
      expect(sh(inRootfs(rootfs, ['/usr/local/bin/node', '--version']), cleanEnv).trim()).toBe(
        `v${NODE_VERSION}`,
      );
      expect(sh(inRootfs(rootfs, ['node', '/app/lib/operator/main.js', '--help']), cleanEnv)).toMatch(
        /--runner-image/,
      );
      // Certificates are made in-process: the operator image carries no openssl CLI.
      expect(existsSync(join(rootfs, 'usr/bin/openssl'))).toBe(false);
    });

    it('has the runner command, its tools and QEMU', () => {
      const rootfs = join(bundle('runner'), 'rootfs');
      expect(existsSync(join(rootfs, 'vm/kernel/vmlinuz'))).toBe(true);
      // The QEMU of the build's choice, and the image records its package version (status.d) as it does
      // every Debian package's.
      const backports = parseQemuSource(process.env[QEMU_SOURCE_ENV], QEMU_SOURCE_ENV) === 'backports';
      const version = sh(inRootfs(rootfs, ['qemu-system-x86_64', '--version']), cleanEnv);
      expect(version).toMatch(
        backports ? /QEMU emulator version (9\.[1-9]|[1-9]\d)/ : /QEMU emulator version 7\.2/,
      );
      const recorded = readFileSync(join(rootfs, 'var/lib/dpkg/status.d/qemu-system-x86'), 'utf8');
      expect(recorded).toMatch(backports ? /^Version: .*~bpo12/m : /^Version: 1:7\.2/m);
      expect(existsSync(join(rootfs, 'var/lib/dpkg/status.d/iptables'))).toBe(true);
      const tools = sh(
        inRootfs(rootfs, [
          'sh',
          '-c',
          'qemu-img --version && iptables --version && ip -V && genisoimage --version && command -v runner dnsmasq ssh ssh-keygen screen mkfs.ext4 mkswap debugfs sysctl truncate nice',
        ]),
        cleanEnv,
      );
      expect(tools).toMatch(/nf_tables/);
      expect(tools).toContain('/usr/bin/runner');
    });

    it('finds its built-in guest in the image (no build at VM start)', () => {
      const rootfs = join(bundle('runner'), 'rootfs');
      const script =
        "require('/app/lib/guest').ensureGuestArtifacts({ progress: () => { throw new Error('would build'); } })" +
        '.then((g) => console.log(g.dir))';
      const env = { ...cleanEnv, NEONVM_CACHE: '/var/cache/neonvm' };
      expect(sh(inRootfs(rootfs, ['node', '-e', script]), env)).toMatch(
        /^\/var\/cache\/neonvm\/guest-\w+-amd64$/m,
      );
    });

    it('boots the baked-in guest kernel with the image QEMU', async () => {
      const rootfs = join(bundle('runner'), 'rootfs');
      const argv = inRootfs(rootfs, [
        'qemu-system-x86_64',
        '-M',
        'pc-q35-7.2',
        '-accel',
        'tcg',
        '-m',
        '256',
        '-display',
        'none',
        '-no-reboot',
        '-nodefaults',
        '-serial',
        'stdio',
        '-kernel',
        '/vm/kernel/vmlinuz',
        '-initrd',
        '/vm/kernel/initramfs.cpio.gz',
        '-append',
        'console=ttyS0 panic=-1',
      ]);
      const child = spawn(argv[0], argv.slice(1), { env: cleanEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      const booted = await new Promise<boolean>((done) => {
        let out = '';
        const timer = setTimeout(() => done(false), 60_000);
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          if (out.includes('Linux version')) {
            clearTimeout(timer);
            done(true);
          }
        });
        child.on('exit', () => {
          clearTimeout(timer);
          done(out.includes('Linux version'));
        });
      });
      child.kill('SIGKILL');
      expect(booted).toBe(true);
    }, 90_000);

    it('runs the device plugin image as its DaemonSet does: registers neonvm/kvm and neonvm/vhost-net, allocates /dev/kvm', async () => {
      await devicePluginImageServes(bundle('device-plugin'), first.installManifest);
    }, 120_000);

    it('runs a VM from the runner image in a pod network namespace (tap networking, its own QEMU)', async () => {
      await runnerImageRunsVm(bundle('runner'));
    }, 300_000);

    it('runs the operator image against the local cluster: it reconciles a VM to Running and scales it', async () => {
      await operatorImageReconcilesVm(bundle('operator'), first.installManifest);
    }, 900_000);
  });
});
