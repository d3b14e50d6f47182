/**
 * The npm package as application repositories get it: built and packed by the same code as
 * `npm run build:package` (release/npm-package.ts), installed from the tarball into fresh projects
 * whose cdk8s and Pulumi versions differ from the repository's, type-checked by the app's own tsc
 * WITHOUT skipLibCheck (a declaration that needs a package the app lacks fails here), then run:
 *
 * - a cdk8s app on cdk8s 2.69.9 / constructs 10.3.2: synthesizes; nothing of Pulumi, the operator or
 *   client-node is installed; the install size is measured;
 * - a Pulumi app on @pulumi/pulumi 3.248.0 / @pulumi/kubernetes 4.24.1, without cdk8s: components run
 *   under Pulumi's mocks;
 * - examples/app-repo, as checked in (its own package.json, cdk8s.yaml): `cdk8s synth` (cdk8s-cli);
 * - the package's `neonvm` command.
 *
 * Installs use the npm cache first (`--prefer-offline`); a cold cache fetches from the registry once.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { buildNpmPackage, type BuiltPackage } from '../../release/npm-package';

const repoDir = resolve(__dirname, '../..');
const rootPkg = JSON.parse(readFileSync(join(repoDir, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
};
/** A Node that satisfies engines.node (the one running, or scripts/ensure-node.sh's download). */
const nodeDir = execFileSync('bash', [join(repoDir, 'scripts/ensure-node.sh')], { encoding: 'utf8' }).trim();
const env = {
  ...process.env,
  PATH: `${nodeDir}:${process.env.PATH ?? ''}`,
  npm_config_update_notifier: 'false',
};

function run(cmd: string, args: string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, {
      cwd,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 << 20,
    });
  } catch (e) {
    // tsc reports on stdout: keep both streams in the failure.
    const { stdout, stderr } = e as { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed:\n${stdout ?? ''}\n${stderr ?? ''}`.slice(0, 6000));
  }
}

/** `npm install`, returning its output (checked for EBADENGINE and peer conflicts). */
function install(app: string): string {
  return run(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=warn'],
    app,
  );
}

function duKb(dir: string): number {
  return Number(run('du', ['-sk', dir], dir).split('\t')[0]);
}

/** Every installed package (npm's own list, nested copies included). */
function installedPackages(app: string): string[] {
  return run('npm', ['ls', '--all', '--parseable'], app)
    .trim()
    .split('\n')
    .slice(1)
    .map((p) => p.slice(p.lastIndexOf('node_modules/') + 'node_modules/'.length));
}

// What cdk8s's and Pulumi's TypeScript templates set: CommonJS, node10 resolution (subpaths through
// typesVersions), strict — and no skipLibCheck.
const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'commonjs',
    strict: true,
    esModuleInterop: true,
    outDir: 'out',
  },
  include: ['main.ts'],
};

function writeApp(dir: string, pkg: object, main: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG));
  writeFileSync(join(dir, 'main.ts'), main);
}

const devDeps = () => ({
  typescript: rootPkg.devDependencies.typescript,
  '@types/node': rootPkg.devDependencies['@types/node'],
});

const CDK8S_MAIN = `
import { App, Chart, Size } from 'cdk8s';
import { NetworkPolicy, ServiceType } from 'cdk8s-plus-28';
import { NeonVmInstall, VirtualMachine, VirtualMachineMigration } from 'neonvm/constructs';
import { buildCustomResourceDefinitions } from 'neonvm/crds';
import * as root from 'neonvm';
const app = new App();
const chart = new Chart(app, 'my-vms', { namespace: 'apps' });
const vm = new VirtualMachine(chart, 'pg', {
  metadata: { name: 'pg' },
  cpus: { min: 0.25, max: 2, use: 0.5 },
  memory: { slotSize: Size.gibibytes(1), min: 1, max: 4, use: 1 },
  rootDisk: { image: 'vm-postgres:15-bullseye', size: Size.gibibytes(8) },
  ports: [{ name: 'postgres', port: 5432 }, { name: 'metrics', port: 9187 }],
});
const svc = vm.exposeViaService({ serviceType: ServiceType.NODE_PORT });
new NetworkPolicy(chart, 'pg-policy', { selector: vm });
new VirtualMachineMigration(chart, 'move', { vm });
new NeonVmInstall(chart, 'neonvm', { image: 'op:1', runnerImage: 'runner:1', devicePluginImage: 'dp:1' });
if (buildCustomResourceDefinitions().length !== 3 || root.buildCustomResourceDefinitions !== buildCustomResourceDefinitions)
  throw new Error('no CRDs');
console.log(JSON.stringify({ service: svc.name, docs: app.synthYaml() }));
`;

const PULUMI_MAIN = `
import * as pulumi from '@pulumi/pulumi';
import { NeonVmInstall, VirtualMachine, VirtualMachineMigration } from 'neonvm/provider';
pulumi.runtime.setMocks(
  {
    newResource: (a) => ({
      id: a.name + '-id',
      state: a.type.startsWith('kubernetes:vm.neon.tech')
        ? { ...a.inputs, metadata: { namespace: 'default', ...a.inputs.metadata } }
        : a.inputs,
    }),
    call: (a) => a.inputs,
  },
  'my-stack', 'dev', false,
);
const vm = new VirtualMachine('pg', {
  metadata: { namespace: 'db' },
  cpus: { min: 0.25, max: 4, use: 1 },
  memory: { slotSize: '1Gi', min: 1, max: 4, use: 2 },
  rootDisk: { image: pulumi.output('vm-postgres:15-bullseye'), size: '8Gi' },
  liveObjectReader: false,
});
const move = new VirtualMachineMigration('move', { vm });
new NeonVmInstall('neonvm', { image: 'op:1', runnerImage: 'runner:1', devicePluginImage: 'dp:1', skipAwait: true });
let invalid = '';
try {
  new VirtualMachine('bad', { rootDisk: { image: 'x', size: '8GB' }, liveObjectReader: false });
} catch (e) {
  invalid = (e instanceof pulumi.ResourceError ? 'ResourceError: ' : 'other: ') + (e as Error).message;
}
pulumi.all([vm.name, vm.namespace, move.object]).apply(([name, namespace, m]) =>
  console.log(JSON.stringify({ name, namespace, migration: m.spec, migrationNamespace: m.metadata?.namespace, invalid })),
);
`;

describe('npm package', () => {
  let work: string;
  let built: BuiltPackage;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'neonvm-pack-'));
    built = await buildNpmPackage(repoDir, join(work, 'npm'));
  }, 600_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('holds the API, the constructs, the Pulumi components and the file CLI — nothing else', () => {
    const files = run('tar', ['-tzf', built.tarball], work)
      .trim()
      .split('\n')
      .map((f) => f.replace(/^package\//, ''));
    const tops = [
      ...new Set(
        files.map((f) => (f.startsWith('lib/') ? f.split('/').slice(0, 2).join('/') : f.split('/')[0])),
      ),
    ];
    expect(tops.sort()).toEqual([
      'README.md',
      'crds',
      'lib/cli',
      'lib/constructs',
      'lib/crds',
      'lib/provider',
      'lib/vendor',
      'package.json',
    ]);
    expect(files).toEqual(
      expect.arrayContaining([
        'lib/cli/package-main.js',
        'lib/provider/index.d.ts',
        'crds/generated/vm.neon.tech_virtualmachines.yaml',
        // TypeBox, vendored: one bundled file, its declarations and its licence.
        'lib/vendor/typebox/index.js',
        'lib/vendor/typebox/index.d.ts',
        'lib/vendor/typebox/LICENSE',
      ]),
    );
    expect(files.some((f) => f.endsWith('.test.js') || (f.endsWith('.ts') && !f.endsWith('.d.ts')))).toBe(
      false,
    );
    // stripInternal: the @internal member is not declared.
    expect(readFileSync(join(built.dir, 'lib/constructs/disk-source.d.ts'), 'utf8')).not.toContain('_toDisk');

    const manifest = JSON.parse(readFileSync(join(built.dir, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional: boolean }>;
    };
    expect(Object.keys(manifest.dependencies).sort()).toEqual([
      'ajv',
      'commander',
      'kubernetes-types',
      'yaml',
    ]);
    expect(Object.keys(manifest.peerDependencies).sort()).toEqual([
      '@kubernetes/client-node',
      '@pulumi/kubernetes',
      '@pulumi/pulumi',
      'cdk8s',
      'cdk8s-plus-28',
      'constructs',
    ]);
    for (const name of Object.keys(manifest.peerDependencies))
      expect(manifest.peerDependenciesMeta[name]).toEqual({ optional: true });
    // Every package the shipped code requires is declared.
    const required = new Set<string>();
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(dir, e.name));
        else if (e.name.endsWith('.js'))
          for (const m of readFileSync(join(dir, e.name), 'utf8').matchAll(
            /require\("((?:@[^/"]+\/)?[^/".][^/"]*)/g,
          ))
            required.add(m[1]);
      }
    };
    walk(join(built.dir, 'lib'));
    const declared = new Set([
      ...Object.keys(manifest.dependencies),
      ...Object.keys(manifest.peerDependencies),
    ]);
    expect([...required].filter((r) => !r.startsWith('node:') && !declared.has(r))).toEqual([]);
  });

  it('a cdk8s app on another cdk8s 2.x: tsc, synth, no Pulumi or operator code installed or loaded', () => {
    const app = join(work, 'cdk8s-app');
    writeApp(
      app,
      {
        name: 'my-vms',
        private: true,
        dependencies: {
          neonvm: `file:${built.tarball}`,
          cdk8s: '2.69.9',
          constructs: '10.3.2',
          'cdk8s-plus-28': '2.5.6',
        },
        devDependencies: devDeps(),
      },
      CDK8S_MAIN,
    );
    const log = install(app);
    expect(log).not.toMatch(/EBADENGINE|ERESOLVE|peer dep/i);
    // One copy of each framework: the app's own.
    const pkgs = installedPackages(app);
    expect(pkgs.filter((p) => p === 'cdk8s' || p.endsWith('/cdk8s'))).toEqual(['cdk8s']);
    expect(pkgs.filter((p) => /^(@pulumi|@kubernetes|@grpc|pino|prom-client)/.test(p))).toEqual([]);
    run(join(app, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], app);
    const out = execFileSync('node', ['out/main.js'], {
      cwd: app,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const { service, docs } = JSON.parse(out.trim().split('\n').pop()!) as { service: string; docs: string };
    const objects = parseAllDocuments(docs).map(
      (d) =>
        d.toJS() as {
          kind: string;
          metadata: { name: string; namespace?: string };
          spec?: Record<string, unknown>;
        },
    );
    expect(objects.find((o) => o.kind === 'VirtualMachine')?.metadata).toMatchObject({
      name: 'pg',
      namespace: 'apps',
    });
    const svc = objects.find((o) => o.kind === 'Service' && o.metadata.namespace === 'apps')!;
    expect(svc.metadata.name).toBe(service);
    expect(svc.spec).toMatchObject({ type: 'NodePort', selector: { 'vm.neon.tech/name': 'pg' } });
    expect(objects.find((o) => o.kind === 'NetworkPolicy')?.spec).toMatchObject({
      podSelector: { matchLabels: { 'vm.neon.tech/name': 'pg' } },
    });
    expect(objects.filter((o) => o.kind === 'CustomResourceDefinition')).toHaveLength(3);

    // Install size of a cdk8s-only app (the README quotes it; it was 258 packages / 205 MB): what the
    // app's dependencies install, without its own typescript and @types/node.
    const dev = ['typescript', '@types', 'undici-types'].map((d) => join(app, 'node_modules', d));
    const kb = duKb(join(app, 'node_modules')) - dev.reduce((sum, d) => sum + duKb(d), 0);
    const runtime = pkgs.filter((p) => !/^(typescript|@types\/|undici-types)/.test(p));
    const ours = [
      'neonvm',
      'ajv',
      'fast-deep-equal',
      'fast-uri',
      'json-schema-traverse',
      'yaml',
      'commander',
      'kubernetes-types',
    ]
      .map((p) => duKb(join(app, 'node_modules', p)))
      .reduce((a, b) => a + b, 0);
    console.log(
      `cdk8s app: ${runtime.length} packages, ${(kb / 1024).toFixed(1)} MB (neonvm and its dependencies: ${(ours / 1024).toFixed(1)} MB; cdk8s, constructs, cdk8s-plus-28: the rest)`,
    );
    // An order of magnitude below the 205 MB a cdk8s app installed before the package was split.
    expect(kb).toBeLessThan(20.5 * 1024);
    expect(runtime.length).toBeLessThanOrEqual(20);
    expect(pkgs).not.toContain('@sinclair/typebox');
  }, 600_000);

  it('a Pulumi app on another Pulumi version, without cdk8s: tsc and the components under mocks', () => {
    const app = join(work, 'pulumi-app');
    writeApp(
      app,
      {
        name: 'my-stack',
        private: true,
        dependencies: {
          neonvm: `file:${built.tarball}`,
          '@pulumi/pulumi': '3.248.0',
          '@pulumi/kubernetes': '4.24.1',
        },
        devDependencies: devDeps(),
      },
      PULUMI_MAIN,
    );
    const log = install(app);
    expect(log).not.toMatch(/ERESOLVE|peer dep/i);
    const pkgs = installedPackages(app);
    expect(pkgs.filter((p) => /^(cdk8s|constructs|@kubernetes\/client-node)/.test(p))).toEqual([]);
    run(join(app, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], app);
    const r = execFileSync('node', ['out/main.js'], {
      cwd: app,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const result = JSON.parse(r.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(result).toMatchObject({
      name: 'pg',
      namespace: 'db',
      migration: { vmName: 'pg' },
      migrationNamespace: 'db',
    });
    expect(result.invalid).toMatch(
      /^ResourceError: VirtualMachine bad is invalid:\nspec\.guest\.rootDisk\.size: must be a Kubernetes quantity .*\(got "8GB"\)/,
    );
  }, 600_000);

  it('the loaded modules: each entry point loads only its framework', () => {
    const loaded = (app: string, entry: string) => {
      const out = execFileSync(
        'node',
        [
          '-e',
          `require('${entry}'); const ks = Object.keys(require.cache); console.log(JSON.stringify([...new Set(ks.map((k) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(k)?.[1]).filter(Boolean))].sort()))`,
        ],
        {
          cwd: join(work, app),
          env,
          encoding: 'utf8',
        },
      );
      return JSON.parse(out) as string[];
    };
    expect(loaded('cdk8s-app', 'neonvm/crds')).toEqual([
      'ajv',
      'fast-deep-equal',
      'fast-uri',
      'json-schema-traverse',
      'neonvm',
      'yaml',
    ]);
    expect(loaded('cdk8s-app', 'neonvm/constructs')).toEqual(
      expect.arrayContaining(['cdk8s', 'cdk8s-plus-28', 'constructs', 'neonvm']),
    );
    expect(loaded('cdk8s-app', 'neonvm/constructs').filter((p) => p.startsWith('@pulumi'))).toEqual([]);
    const provider = loaded('pulumi-app', 'neonvm/provider');
    expect(provider).toEqual(expect.arrayContaining(['@pulumi/kubernetes', '@pulumi/pulumi', 'neonvm']));
    expect(provider.filter((p) => /^(cdk8s|constructs|@kubernetes)/.test(p))).toEqual([]);
  }, 120_000);

  it("the package's neonvm command: file commands work, repository commands say what they need", () => {
    const app = join(work, 'cdk8s-app');
    writeFileSync(
      join(app, 'vm.yaml'),
      'apiVersion: vm.neon.tech/v1\nkind: VirtualMachine\nmetadata: {name: a}\nspec:\n  guest:\n    rootDisk: {image: x, size: 8GB}\n',
    );
    const bin = join(app, 'node_modules/.bin/neonvm');
    let failure = '';
    try {
      run(bin, ['validate', 'vm.yaml'], app);
    } catch (e) {
      failure = String(e);
    }
    expect(failure).toContain('spec.guest.rootDisk.size: must be a Kubernetes quantity');
    expect(run(bin, ['crds'], app)).toContain('kind: CustomResourceDefinition');
    let start = '';
    try {
      run(bin, ['start'], app);
    } catch (e) {
      start = String(e);
    }
    expect(start).toContain('`neonvm start` needs a clone of the NeonVM repository');
  });

  it('examples/app-repo, as checked in: npm install of the package and `cdk8s synth`', () => {
    const app = join(work, 'app-repo');
    cpSync(join(repoDir, 'examples/app-repo'), app, {
      recursive: true,
      filter: (src) => !src.includes('node_modules') && !src.endsWith('/dist'),
    });
    const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(pkg.dependencies.neonvm).toBe('file:../../dist/npm/neonvm.tgz');
    // The same tarball, at the place the checked-in path points to relative to this copy.
    mkdirSync(join(work, 'dist', 'npm'), { recursive: true });
    cpSync(built.tarball, join(work, 'dist', 'npm', 'neonvm.tgz'));
    const nested = join(work, 'examples', 'app-repo');
    mkdirSync(join(work, 'examples'), { recursive: true });
    cpSync(app, nested, { recursive: true });
    install(nested);
    run(join(nested, 'node_modules/.bin/cdk8s'), ['synth', '--no-check-upgrade'], nested);
    const objects = parseAllDocuments(readFileSync(join(nested, 'dist', 'my-vms.k8s.yaml'), 'utf8')).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string; namespace: string } },
    );
    expect(objects.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`).sort()).toEqual([
      'Service/apps/pg-1',
      'Service/apps/pg-2',
      'VirtualMachine/apps/pg-1',
      'VirtualMachine/apps/pg-2',
    ]);
  }, 900_000);
});
