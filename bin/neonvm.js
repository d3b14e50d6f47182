#!/usr/bin/env node
/**
 * The repository's `neonvm` command (`npx neonvm …`, `npm start`): runs the compiled CLI in lib/,
 * building lib/ first when it is missing or older than any source file.
 *
 * Why a checked-in shim rather than a `prepare` script: `prepare` would build once per `npm ci`, and
 * every later edit or `git pull` would leave `npx neonvm` running stale code; running the sources
 * through tsx instead would put a transpiler under long-running processes (the local cluster, the
 * runner). This checks the sources' mtimes (a few ms), rebuilds only when needed, and always runs
 * compiled code. The published package's `neonvm` is lib/cli/package-main.js directly (no sources).
 */
'use strict';
const {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} = require('node:fs');
const { join } = require('node:path');
const { spawnSync } = require('node:child_process');

const repo = join(__dirname, '..');
const lib = join(repo, 'lib');
const stamp = join(lib, '.build-stamp');

/** Newest mtime (ms) of the build's inputs: its TypeScript sources and the files that configure it. */
function newestInput() {
  const config = JSON.parse(readFileSync(join(repo, 'tsconfig.build.json'), 'utf8'));
  let newest = 0;
  const visit = (path) => {
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) {
      for (const name of readdirSync(path)) if (name !== 'node_modules') visit(join(path, name));
    } else if (path.endsWith('.ts') || path.endsWith('.json')) {
      newest = Math.max(newest, st.mtimeMs);
    }
  };
  // `examples` holds code the CLI imports (it is not an include root of the build).
  for (const dir of [...config.include, 'examples']) visit(join(repo, dir));
  for (const file of ['tsconfig.json', 'tsconfig.build.json', 'package.json']) visit(join(repo, file));
  return newest;
}

function upToDate() {
  const st = statSync(stamp, { throwIfNoEntry: false });
  return st !== undefined && st.mtimeMs >= newestInput();
}

/** One build at a time (concurrent `npx neonvm` calls): a lock directory, then re-check. */
function build() {
  const lock = join(repo, '.neonvm-build.lock');
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`${lock} held for 10 minutes; remove it if no build runs`);
      spawnSync('sleep', ['0.2']);
    }
  }
  try {
    if (upToDate()) return;
    const started = new Date();
    process.stderr.write('neonvm: compiling lib/ (first run, or sources changed since the last build)…\n');
    const tsc = require.resolve('typescript/bin/tsc', { paths: [repo] });
    const r = spawnSync(process.execPath, [tsc, '-p', join(repo, 'tsconfig.build.json')], {
      stdio: 'inherit',
    });
    if (r.status !== 0) process.exit(r.status ?? 1);
    mkdirSync(lib, { recursive: true });
    writeFileSync(stamp, '');
    // The stamp carries the build's start time: a file edited during the build triggers the next one.
    utimesSync(stamp, started, started);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

if (!existsSync(join(repo, 'node_modules', 'typescript'))) {
  process.stderr.write('neonvm: run `npm ci` in the repository first (node_modules is missing)\n');
  process.exit(1);
}
if (!upToDate()) build();
require(join(lib, 'cli', 'main.js'))
  .runCli(process.argv)
  .catch(() => undefined);
