/**
 * The npm package app repositories install (`neonvm`): the API (`neonvm/crds`), the cdk8s constructs
 * (`neonvm/constructs`), the Pulumi components (`neonvm/provider`) and a CLI for files
 * (`neonvm validate|diff|crds`) — compiled from the entry points below, so it holds exactly the modules
 * they reach: no operator, runner, cluster or local-stack code, none of their dependencies.
 *
 * Why one package with optional peers rather than npm workspaces: one version to pin, the subpath
 * imports users already write, and the repository stays one npm project (one lock, the images'
 * `npm ci --omit=dev` unchanged). The frameworks are peer dependencies with ranges — as cdk8s-plus and
 * Pulumi's component packages declare them — so the app's one copy of cdk8s/constructs/Pulumi is the
 * one our code uses (a second, nested copy is what broke synth with `can't render non-simple object`
 * and tsc with `separate declarations`). They are optional: a cdk8s app installs no Pulumi, a Pulumi
 * app no cdk8s. The manifest is derived here from the repository's package.json (versions stay one
 * truth); the repository's own package.json is private and is not what gets published.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { vendorTypebox } from './npm-package-vendor';

/** Subpath → compiled entry (without extension), relative to the package root. */
export const PACKAGE_ENTRY_POINTS = {
  '.': 'lib/crds/index',
  './crds': 'lib/crds/index',
  './constructs': 'lib/constructs/index',
  './provider': 'lib/provider/index',
} as const;

/** TypeScript sources compiled into the package (tsc follows their imports, and only those). */
export const PACKAGE_SOURCES = [
  'crds/index.ts',
  'constructs/index.ts',
  'provider/index.ts',
  'cli/package-main.ts',
] as const;

/** Runtime dependencies of the shipped code; versions come from the repository's package.json. */
export const PACKAGE_DEPENDENCIES = [
  // TypeBox is vendored instead (lib/vendor/typebox, see npm-package-vendor.ts): 1 MB rather than 6.
  'ajv',
  'yaml',
  'commander',
  'kubernetes-types',
] as const;

/**
 * Peer dependencies, all optional: the lower bounds are the oldest versions whose APIs we use
 * (cdk8s-plus-28 2.x itself needs cdk8s ^2.68.11, constructs ^10.3.0; @pulumi/kubernetes ≥ 4.13 has yaml.v2.ConfigGroup and needs
 * @pulumi/pulumi ^3.142.0). `@kubernetes/client-node` is only used by the Pulumi preview's change
 * report (provider/live-object-reader.ts), which says so when it is absent.
 */
export const PACKAGE_PEER_DEPENDENCIES: Readonly<Record<string, string>> = {
  cdk8s: '^2.68.11',
  constructs: '^10.3.0',
  'cdk8s-plus-28': '^2.0.0',
  '@pulumi/pulumi': '^3.142.0',
  '@pulumi/kubernetes': '^4.13.0',
  '@kubernetes/client-node': '^1.0.0',
};

export interface RootManifest {
  readonly version: string;
  readonly description?: string;
  readonly license?: string;
  readonly repository?: unknown;
  readonly engines?: Readonly<Record<string, string>>;
  readonly dependencies?: Readonly<Record<string, string>>;
}

export type PackageManifest = Record<string, unknown>;

/** The published package.json, from the repository's. */
export function publishedManifest(root: RootManifest): PackageManifest {
  const dependencies: Record<string, string> = {};
  for (const name of PACKAGE_DEPENDENCIES) {
    const version = root.dependencies?.[name];
    if (!version) throw new Error(`package.json: ${name} is not a dependency of the repository`);
    dependencies[name] = version;
  }
  const exportMap: Record<string, unknown> = {};
  const typesVersions: Record<string, string[]> = {};
  for (const [subpath, entry] of Object.entries(PACKAGE_ENTRY_POINTS)) {
    exportMap[subpath] = { types: `./${entry}.d.ts`, default: `./${entry}.js` };
    // CommonJS apps (node10 resolution, cdk8s's and Pulumi's templates) find subpaths through this.
    if (subpath !== '.') typesVersions[subpath.slice(2)] = [`${entry}.d.ts`];
  }
  exportMap['./crds/generated/*'] = './crds/generated/*';
  exportMap['./package.json'] = './package.json';
  return {
    name: 'neonvm',
    version: root.version,
    description:
      'NeonVM as infrastructure-as-code: the vm.neon.tech/v1 API (types, defaults, validation, CRDs), cdk8s constructs and Pulumi components for QEMU virtual machines on Kubernetes.',
    license: root.license,
    repository: root.repository,
    engines: root.engines,
    main: `./${PACKAGE_ENTRY_POINTS['.']}.js`,
    types: `./${PACKAGE_ENTRY_POINTS['.']}.d.ts`,
    typesVersions: { '*': typesVersions },
    exports: exportMap,
    bin: { neonvm: './lib/cli/package-main.js' },
    files: ['lib/', 'crds/generated/', 'README.md'],
    dependencies,
    peerDependencies: { ...PACKAGE_PEER_DEPENDENCIES },
    peerDependenciesMeta: Object.fromEntries(
      Object.keys(PACKAGE_PEER_DEPENDENCIES).map((name) => [name, { optional: true }]),
    ),
  };
}

export interface BuiltPackage {
  /** The staged package directory (dist/npm/package). */
  readonly dir: string;
  /** The `npm pack` tarball (also copied to `<outDir>/neonvm.tgz`). */
  readonly tarball: string;
}

/**
 * Compiles the entry points into `<outDir>/package/lib` (declarations with `stripInternal`), adds
 * the generated CRDs, the README and the manifest, and packs it into `<outDir>/neonvm-<version>.tgz`.
 */
export async function buildNpmPackage(repoDir: string, outDir: string): Promise<BuiltPackage> {
  const root = JSON.parse(await readFile(join(repoDir, 'package.json'), 'utf8')) as RootManifest;
  const dir = join(outDir, 'package');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const tsc = require.resolve('typescript/bin/tsc', { paths: [repoDir] });
  await promisify(execFile)(
    process.execPath,
    [tsc, '-p', join(repoDir, 'tsconfig.package.json'), '--outDir', join(dir, 'lib')],
    { cwd: repoDir, maxBuffer: 16 << 20 },
  ).catch((e: { stdout?: string; message: string }) => {
    throw new Error(`tsc (tsconfig.package.json) failed:\n${e.stdout ?? e.message}`);
  });
  await vendorTypebox(repoDir, join(dir, 'lib'));
  await mkdir(join(dir, 'crds', 'generated'), { recursive: true });
  for (const f of (await readdir(join(repoDir, 'crds', 'generated'))).filter((f) => f.endsWith('.yaml')))
    await copyFile(join(repoDir, 'crds', 'generated', f), join(dir, 'crds', 'generated', f));
  await copyFile(join(repoDir, 'release', 'npm-package-readme.md'), join(dir, 'README.md'));
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(publishedManifest(root), null, 2)}\n`);
  const { stdout } = await promisify(execFile)('npm', ['pack', '--json', '--pack-destination', outDir], {
    cwd: dir,
    maxBuffer: 16 << 20,
  });
  const [packed] = JSON.parse(stdout) as { filename: string }[];
  if (!packed) throw new Error('npm pack wrote no tarball');
  // A stable name too, for app repos that depend on the local build (examples/app-repo).
  await copyFile(join(outDir, packed.filename), join(outDir, 'neonvm.tgz'));
  return { dir, tarball: join(outDir, packed.filename) };
}
