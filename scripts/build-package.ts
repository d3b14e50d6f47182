/**
 * `npm run build:package`: the npm package app repositories install, packed into
 * dist/npm/neonvm-<version>.tgz (release/npm-package.ts says what is in it and why).
 */
import { join, resolve } from 'node:path';
import { buildNpmPackage } from '../release/npm-package';

const repo = resolve(__dirname, '..');
buildNpmPackage(repo, join(repo, process.argv[2] ?? 'dist/npm')).then(
  ({ tarball }) => console.log(tarball),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
