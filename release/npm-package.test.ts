/**
 * The npm package's sources, checked in seconds (test/release/npm-pack.int.test.ts installs and runs the
 * real tarball): every module the entry points reach, types included (apps type-check our declarations
 * without skipLibCheck), imports only declared packages, and each entry point only its framework.
 */
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, normalize, resolve } from 'node:path';
import ts from 'typescript';
import {
  PACKAGE_DEPENDENCIES,
  PACKAGE_PEER_DEPENDENCIES,
  PACKAGE_SOURCES,
  publishedManifest,
  type RootManifest,
} from './npm-package';
import { VENDORED_PACKAGE } from './npm-package-vendor';

const repo = resolve(__dirname, '..');

/** Package name of a bare specifier (`@scope/name/sub` → `@scope/name`). */
const packageOf = (s: string) =>
  s
    .split('/')
    .slice(0, s.startsWith('@') ? 2 : 1)
    .join('/');

/** The npm packages the modules reachable from `entry` import, with the files importing each. */
function packagesReachedFrom(entry: string): Map<string, Set<string>> {
  const packages = new Map<string, Set<string>>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(join(repo, file), 'utf8');
    for (const { fileName: spec } of ts.preProcessFile(source, true, true).importedFiles) {
      if (spec.startsWith('.')) {
        const base = normalize(join(dirname(file), spec));
        const target = [`${base}.ts`, join(base, 'index.ts')].find((f) => existsSync(join(repo, f)));
        if (target) visit(target);
      } else if (!spec.startsWith('node:') && !builtinModules.includes(spec)) {
        const name = packageOf(spec);
        packages.set(name, (packages.get(name) ?? new Set()).add(file));
      }
    }
  };
  visit(entry);
  return packages;
}

describe('npm package sources', () => {
  const all = new Map<string, Set<string>>();
  for (const entry of PACKAGE_SOURCES)
    for (const [name, files] of packagesReachedFrom(entry))
      all.set(name, new Set([...(all.get(name) ?? []), ...files]));

  it('import only the declared dependencies, peers and the vendored TypeBox', () => {
    const declared = new Set<string>([
      ...PACKAGE_DEPENDENCIES,
      ...Object.keys(PACKAGE_PEER_DEPENDENCIES),
      VENDORED_PACKAGE,
    ]);
    expect([...all.keys()].filter((p) => !declared.has(p))).toEqual([]);
  });

  it('use @kubernetes/client-node only in the Pulumi preview reader (an optional peer, loaded on demand)', () => {
    expect([...(all.get('@kubernetes/client-node') ?? [])]).toEqual(['provider/live-object-reader.ts']);
  });

  it('reach from each entry point only its own framework', () => {
    const frameworks = (entry: string) =>
      [...packagesReachedFrom(entry).keys()]
        .filter((p) => /^(cdk8s|cdk8s-plus-28|constructs|@pulumi\/.*|@kubernetes\/client-node)$/.test(p))
        .sort();
    expect(frameworks('crds/index.ts')).toEqual([]);
    expect(frameworks('constructs/index.ts')).toEqual(['cdk8s', 'cdk8s-plus-28', 'constructs']);
    expect(frameworks('provider/index.ts')).toEqual([
      '@kubernetes/client-node',
      '@pulumi/kubernetes',
      '@pulumi/pulumi',
    ]);
  });

  it('the published manifest: TypeBox vendored, engines as the repository', () => {
    const root = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as RootManifest;
    const manifest = publishedManifest(root) as { dependencies: Record<string, string>; engines: unknown };
    expect(manifest.dependencies[VENDORED_PACKAGE]).toBeUndefined();
    expect(manifest.engines).toEqual(root.engines);
  });
});
