/**
 * Vendoring TypeBox into the npm package (lib/vendor/typebox): its runtime as one esbuild bundle, its
 * declarations (the `type/` tree the root index re-exports) as published, and our compiled files'
 * `@sinclair/typebox` specifiers rewritten to the vendored copy.
 *
 * Why: TypeBox is the package's largest dependency (6 MB installed: a CommonJS and an ESM build, each
 * with declarations) while the shipped code only calls the `Type` builders at run time; its declarations
 * are still needed, because the exported schemas are typed with them and apps type-check our
 * declarations without skipLibCheck. The vendored copy is ~1 MB and takes the cdk8s-only app below
 * 20.5 MB, an order of magnitude under the 205 MB it was. TypeBox keeps its schema kind in
 * `Symbol.for(...)` keys, so a second TypeBox in the app (its own) interoperates with ours.
 */
import { build } from 'esbuild';
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';

export const VENDORED_PACKAGE = '@sinclair/typebox';
/** Where the vendored copy lives, relative to the package's lib/. */
export const VENDOR_DIR = 'vendor/typebox';

/**
 * Rewrites the module specifier `pkg` (exactly, in `require("…")`, `from '…'` and `import("…")`) to
 * `target`. A subpath import (`pkg/…`) is refused: the vendored copy has only the root entry.
 */
export function rewriteSpecifier(source: string, pkg: string, target: string, file = 'source'): string {
  const quoted = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  if (new RegExp(`["']${quoted(pkg)}/`).test(source))
    throw new Error(`${file}: imports a subpath of ${pkg}, which the vendored copy does not have`);
  return source.replace(new RegExp(`(["'])${quoted(pkg)}\\1`, 'g'), (_m, q: string) => `${q}${target}${q}`);
}

/** The specifier of `lib/<VENDOR_DIR>` as seen from `file` (both under `lib`). */
export function vendorSpecifier(lib: string, file: string): string {
  const rel = relative(dirname(file), join(lib, VENDOR_DIR)).split('\\').join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

async function filesUnder(dir: string, keep: (name: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(path, keep)));
    else if (keep(e.name)) out.push(path);
  }
  return out;
}

/** Vendors TypeBox into `<lib>/vendor/typebox` and points every compiled file of `lib` at it. */
export async function vendorTypebox(repoDir: string, lib: string): Promise<void> {
  const ownFiles = await filesUnder(lib, (n) => n.endsWith('.js') || n.endsWith('.d.ts'));
  // Its package.json is not exported: find the package directory from the resolved entry.
  const entry = require.resolve(VENDORED_PACKAGE, { paths: [repoDir] });
  const marker = `${sep}node_modules${sep}${VENDORED_PACKAGE.split('/').join(sep)}${sep}`;
  const at = entry.lastIndexOf(marker);
  if (at < 0) throw new Error(`${VENDORED_PACKAGE} resolved outside node_modules: ${entry}`);
  const pkgDir = entry.slice(0, at + marker.length - 1);
  const { types, version } = JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8')) as {
    types: string;
    version: string;
  };
  const out = join(lib, VENDOR_DIR);
  await mkdir(out, { recursive: true });

  // Runtime: the root entry as one minified CommonJS file (140 KB; 320 KB unminified), no source map.
  await build({
    entryPoints: [entry],
    outfile: join(out, 'index.js'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    minify: true,
    legalComments: 'inline',
    banner: {
      js: `/* ${VENDORED_PACKAGE} ${version} (MIT, see LICENSE), bundled by release/npm-package-vendor.ts */`,
    },
    logLevel: 'silent',
  });

  // Declarations: the root index and the type/ tree it re-exports (closed under relative imports).
  const typesRoot = dirname(join(pkgDir, types));
  for (const file of [
    join(typesRoot, 'index.d.ts'),
    ...(await filesUnder(join(typesRoot, 'type'), (n) => n.endsWith('.d.ts'))),
  ]) {
    const dest = join(out, relative(typesRoot, file));
    await mkdir(dirname(dest), { recursive: true });
    await copyFile(file, dest);
  }
  await copyFile(join(pkgDir, 'license'), join(out, 'LICENSE'));

  for (const file of ownFiles) {
    const text = await readFile(file, 'utf8');
    const next = rewriteSpecifier(text, VENDORED_PACKAGE, vendorSpecifier(lib, file), file);
    if (next !== text) await writeFile(file, next);
  }
}
