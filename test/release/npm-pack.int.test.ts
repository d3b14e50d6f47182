/**
 * The npm package as an application repository gets it: `npm run build` + `npm pack`, the tarball
 * installed into a fresh project (dependencies from the local npm cache), type-checked with the
 * app's own tsc under the default CommonJS settings, and a VirtualMachine synthesized from it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

const repoDir = resolve(__dirname, '../..');
const pkg = JSON.parse(readFileSync(join(repoDir, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

function run(cmd: string, args: string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 << 20,
    });
  } catch (e) {
    // tsc reports on stdout: keep both streams in the failure.
    const { stdout, stderr } = e as { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed:\n${stdout ?? ''}\n${stderr ?? ''}`.slice(0, 4000));
  }
}

const APP_MAIN = `
import { App, Chart, Size } from 'cdk8s';
import { VirtualMachine } from 'neonvm/constructs';
import { buildCustomResourceDefinitions } from 'neonvm/crds';
import { NeonVmInstall } from 'neonvm/provider';
import * as root from 'neonvm';

const app = new App();
const chart = new Chart(app, 'my-vms', { namespace: 'apps' });
new VirtualMachine(chart, 'pg', {
  metadata: { name: 'pg' },
  cpus: { min: 0.25, max: 2, use: 0.5 },
  memory: { slotSize: Size.gibibytes(1), min: 1, max: 4, use: 1 },
  rootDisk: { image: 'vm-postgres:15-bullseye' },
});
if (buildCustomResourceDefinitions().length === 0 || typeof root.buildCustomResourceDefinitions !== 'function')
  throw new Error('no CRDs');
if (typeof NeonVmInstall !== 'function') throw new Error('no Pulumi component');
process.stdout.write(app.synthYaml());
`;

describe('npm package', () => {
  let work: string | undefined;
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('installs into an app repo, type-checks and synthesizes a VirtualMachine', () => {
    work = mkdtempSync(join(tmpdir(), 'neonvm-pack-'));
    run('npm', ['run', 'build'], repoDir);
    const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], repoDir)) as {
      filename: string;
      files: { path: string }[];
    }[];
    const files = packed.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining(['lib/constructs/index.js', 'lib/constructs/index.d.ts', 'lib/cli/main.js']),
    );
    expect(files.some((f) => /^crds\/generated\/.+\.yaml$/.test(f))).toBe(true);
    expect(
      files.some(
        (f) =>
          f.endsWith('.test.js') || f.startsWith('release/') || (f.endsWith('.ts') && !f.endsWith('.d.ts')),
      ),
    ).toBe(false);

    const app = join(work, 'app');
    run('mkdir', ['-p', app], work);
    const dep = (name: string) => pkg.dependencies[name] ?? pkg.devDependencies[name];
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({
        name: 'my-vms',
        private: true,
        dependencies: {
          neonvm: `file:${join(work, packed.filename)}`,
          cdk8s: dep('cdk8s'),
          constructs: dep('constructs'),
          'cdk8s-plus-28': dep('cdk8s-plus-28'),
        },
        devDependencies: { typescript: dep('typescript'), '@types/node': dep('@types/node') },
      }),
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        // The settings of examples/app-repo: CommonJS, i.e. node10 resolution (subpaths need typesVersions).
        compilerOptions: {
          target: 'ES2022',
          module: 'commonjs',
          strict: true,
          esModuleInterop: true,
          skipLibCheck: true,
          outDir: 'out',
        },
        include: ['main.ts'],
      }),
    );
    writeFileSync(join(app, 'main.ts'), APP_MAIN);
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], app);
    run(join(app, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], app);
    const docs = parseAllDocuments(run('node', ['out/main.js'], app)).map(
      (d) => d.toJS() as Record<string, unknown>,
    );
    const vm = docs.find((d) => d.kind === 'VirtualMachine') as {
      apiVersion: string;
      metadata: { name: string; namespace: string };
    };
    expect(vm.apiVersion).toBe('vm.neon.tech/v1');
    expect(vm.metadata).toMatchObject({ name: 'pg', namespace: 'apps' });
    // The CLI is part of the package.
    expect(
      run('node', [join(app, 'node_modules', 'neonvm', 'lib', 'cli', 'main.js'), '--help'], app),
    ).toMatch(/Usage: neonvm/);
  }, 900_000);
});
