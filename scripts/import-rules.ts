/**
 * The layering of the repository as data, and the check that keeps it true: which top-level
 * component may import which (`npm test` runs scripts/import-rules.test.ts over every .ts file), and
 * the dependency diagram docs/CONTRIBUTING.md shows, generated from the same table.
 *
 * Hand-written rather than dependency-cruiser: the rules are one table, the parser is the TypeScript
 * compiler's own `preProcessFile`, and the diagram must be generated from the same table anyway.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import ts from 'typescript';

/** A top-level folder, or `runner/api` (the runner's contract, the only part the operator may use). */
export type Component = keyof typeof PRODUCTION_DEPS;

/** What each component's production code may import (besides itself and npm packages). */
export const PRODUCTION_DEPS = {
  host: [],
  kube: ['host'],
  crds: [],
  guest: ['host', 'crds'],
  constructs: ['crds'],
  provider: ['crds', 'constructs', 'host'],
  'runner/api': ['crds'],
  runner: ['runner/api', 'guest', 'crds', 'host'],
  operator: ['runner/api', 'kube', 'crds', 'host'],
  cluster: ['kube', 'crds', 'host'],
  'device-plugin': ['host'],
  'vxlan-controller': ['kube', 'host'],
  image: ['cluster', 'guest', 'crds', 'host'],
  release: ['image', 'constructs', 'guest', 'crds', 'host'],
  'local-stack': [
    'operator',
    'runner',
    'runner/api',
    'cluster',
    'release',
    'image',
    'constructs',
    'guest',
    'crds',
    'host',
  ],
  examples: ['provider', 'constructs', 'crds', 'host'],
  cli: [
    'local-stack',
    'examples',
    'image',
    'operator',
    'runner',
    'runner/api',
    'cluster',
    'provider',
    'constructs',
    'guest',
    'crds',
    'host',
  ],
  scripts: '*',
  bench: '*',
  test: '*',
} as const satisfies Record<string, readonly string[] | '*'>;

/** Where code of a component may be imported from other components only through its index.ts. */
export const INDEX_ONLY: readonly Component[] = ['host', 'kube', 'guest', 'local-stack'];

/**
 * Second entry points of an index-only component: `kube/client-node` holds the helpers built on
 * @kubernetes/client-node's generated clients, apart from the index so that importing `kube` does not
 * load all of client-node (~65 MiB RSS; the operator does not use them).
 */
const OTHER_ENTRY_POINTS: Partial<Record<Component, readonly string[]>> = { kube: ['client-node'] };

/**
 * Tests (`*.test.ts`, `testing/` folders) live with the component they test and may also use what
 * they boot or set up (the runner to boot a guest, the local cluster, any `testing/` helpers); what
 * needs the whole stack or the CLI is an end-to-end suite and belongs in test/.
 */
const NOT_FOR_COMPONENT_TESTS: readonly string[] = ['local-stack', 'cli', 'scripts', 'bench', 'test'];

export function componentOf(file: string): Component | undefined {
  const [top, second] = file.split('/');
  if (top === 'runner' && second === 'api') return 'runner/api';
  return top in PRODUCTION_DEPS ? (top as Component) : undefined;
}

function isTestCode(file: string): boolean {
  return /\.test\.ts$/.test(file) || file.split('/').includes('testing');
}

export interface Violation {
  readonly file: string;
  readonly specifier: string;
  readonly rule: string;
}

/** The repository file a relative specifier names (a .ts file or a folder's index.ts), if any. */
function resolveSpecifier(repo: string, from: string, specifier: string): string | undefined {
  const base = normalize(join(dirname(from), specifier));
  for (const candidate of [`${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(join(repo, candidate))) return candidate;
  }
  return existsSync(join(repo, base)) && statSync(join(repo, base)).isFile() ? base : undefined;
}

/** Checks one file's relative imports (static, dynamic, require) against the rules. */
export function checkFile(repo: string, file: string, source: string): Violation[] {
  const from = componentOf(file);
  if (!from) return [];
  const allowed = PRODUCTION_DEPS[from];
  const test = isTestCode(file);
  const out: Violation[] = [];
  for (const { fileName: specifier } of ts.preProcessFile(source, true, true).importedFiles) {
    if (!specifier.startsWith('.')) continue;
    const target = resolveSpecifier(repo, file, specifier);
    if (!target || !target.endsWith('.ts')) continue; // data files (fixtures, generated YAML)
    const to = componentOf(target);
    if (!to || to === from) continue;
    if (allowed !== '*') {
      const ok = test
        ? !NOT_FOR_COMPONENT_TESTS.includes(to) || (allowed as readonly string[]).includes(to)
        : (allowed as readonly string[]).includes(to);
      if (!ok)
        out.push({
          file,
          specifier,
          rule: test
            ? `a test of ${from}/ may not import ${to}/ (a suite that needs it is an end-to-end suite: test/)`
            : `${from}/ may import only ${allowed.length ? allowed.join(', ') : 'nothing of the project'}, not ${to}/`,
        });
    }
    const toIndex = relative(to, target.replace(/\.ts$/, ''));
    if (
      INDEX_ONLY.includes(to) &&
      toIndex !== 'index' &&
      !toIndex.startsWith('testing') &&
      !(OTHER_ENTRY_POINTS[to] ?? []).includes(toIndex)
    )
      out.push({
        file,
        specifier,
        rule: `${to}/ is used through its index (import '${to}', not '${target}')`,
      });
  }
  return out;
}

/** A Mermaid graph of PRODUCTION_DEPS without the edges that follow from others (transitive reduction). */
export function dependencyDiagram(): string {
  const deps = (c: Component): readonly Component[] => {
    const d = PRODUCTION_DEPS[c];
    return d === '*' ? [] : (d as readonly Component[]);
  };
  const reaches = (a: Component, b: Component, seen = new Set<Component>()): boolean =>
    deps(a).some((d) => d === b || (!seen.has(d) && (seen.add(d), reaches(d, b, seen))));
  const lines = ['```mermaid', 'graph TD'];
  const id = (c: string) => c.replace(/[/-]/g, '_');
  const components = (Object.keys(PRODUCTION_DEPS) as Component[]).filter((c) => PRODUCTION_DEPS[c] !== '*');
  for (const c of components) lines.push(`  ${id(c)}[${c}/]`);
  for (const c of components) {
    for (const d of deps(c)) {
      const implied = deps(c).some((other) => other !== d && reaches(other, d));
      if (!implied) lines.push(`  ${id(c)} --> ${id(d)}`);
    }
  }
  lines.push('```');
  return lines.join('\n');
}

const NOT_SOURCE = new Set(['node_modules', 'lib', 'dist', 'coverage', 'generated']);

/** Every .ts file of the repository (relative paths), outside dependencies and build output. */
export function sourceFiles(repo: string, dir = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(repo, dir), { withFileTypes: true })) {
    if (e.name.startsWith('.') || NOT_SOURCE.has(e.name)) continue;
    const path = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...sourceFiles(repo, path));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** All violations in the repository. */
export function checkRepository(repo: string): Violation[] {
  return sourceFiles(repo).flatMap((file) => checkFile(repo, file, readFileSync(join(repo, file), 'utf8')));
}
