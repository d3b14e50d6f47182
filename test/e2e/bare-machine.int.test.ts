/**
 * The README's commands on a machine without the Debian packages, as a new user meets them: a fresh
 * clone whose node_modules is what `npm ci` installs, a PATH holding only Node, npm and the base
 * system's tools (coreutils, bash, tar, flock — what Debian 12 always has).
 *
 * - `npm start` / `npm test` as a normal user stop before any work (nothing compiled, nothing
 *   written) with one message naming the missing packages and the apt-get command;
 * - as root, the same check plans `apt-get update` + `apt-get install` of exactly those packages
 *   with a progress line (`--dry-run`: this test must not change the shared machine);
 * - `npx neonvm …` works right after `npm ci`: bin/neonvm.js compiles lib/ on first use.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  linkSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { describeIf } from '../../host/testing';
import { readAptPrerequisites } from '../../host';

const repo = resolve(__dirname, '../..');
/** What a Debian 12 base system has besides Node and npm (none of it from ci-apt-packages.txt). */
const BASE_TOOLS = [
  'bash',
  'sh',
  'env',
  'dirname',
  'basename',
  'mktemp',
  'cat',
  'uname',
  'sort',
  'head',
  'tail',
  'sed',
  'grep',
  'tar',
  'gzip',
  'flock',
  'mkdir',
  'rm',
  'mv',
  'touch',
  'ls',
  'chmod',
  'id',
  'sleep',
];
const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
const hasGit = spawnSync('git', ['--version']).status === 0;

/** The scope's packages as this PATH sees them: every command missing; files only where absent. */
function missingHere(scope: 'start' | 'test') {
  return readAptPrerequisites(join(repo, 'scripts/ci-apt-packages.txt')).filter(
    (p) => (scope === 'test' || p.neededBy === 'start') && (!isAbsolute(p.probe) || !existsSync(p.probe)),
  );
}

function which(cmd: string): string {
  return execFileSync('bash', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim();
}

describeIf(isRoot && hasGit, 'needs root (to run the check as root and as nobody) and git')(
  'a bare machine',
  () => {
    let work: string;
    let clone: string;
    let bin: string;
    let home: string;

    beforeAll(() => {
      // Under /tmp itself: the run's own TMPDIR (jest-global-setup.js) is private to root.
      work = mkdtempSync('/tmp/neonvm-bare-');
      chmodSync(work, 0o755);
      clone = join(work, 'clone');
      execFileSync('git', ['clone', '--quiet', '--no-hardlinks', repo, clone]);
      // What `npm ci` would install, without the minutes it takes: the checkout's own node_modules.
      symlinkSync(realpathSync(join(repo, 'node_modules')), join(clone, 'node_modules'));
      bin = join(work, 'bin');
      execFileSync('mkdir', ['-p', bin]);
      // A Node that satisfies engines.node (scripts/ensure-node.sh: this one, or the cached download).
      const nodeDir = execFileSync('bash', [join(repo, 'scripts/ensure-node.sh')], {
        encoding: 'utf8',
      }).trim();
      // A link, not a symlink: the cache may sit under /root, which the unprivileged user cannot enter.
      try {
        linkSync(join(nodeDir, 'node'), join(bin, 'node'));
      } catch {
        copyFileSync(join(nodeDir, 'node'), join(bin, 'node'));
      }
      for (const tool of ['npm', 'npx', ...BASE_TOOLS])
        symlinkSync(realpathSync(which(tool)), join(bin, tool));
      home = join(work, 'home');
      execFileSync('mkdir', ['-p', home]);
      chmodSync(home, 0o777);
    }, 120_000);

    afterAll(() => {
      if (work) rmSync(work, { recursive: true, force: true });
    });

    const env = () => ({ PATH: bin, HOME: home, NEONVM_CACHE: join(home, 'cache'), LANG: 'C.UTF-8' });

    function asNobody(args: string[]) {
      return spawnSync(
        '/usr/bin/setpriv',
        ['--reuid', `${NOBODY}`, '--regid', `${NOBODY}`, '--clear-groups', ...args],
        {
          cwd: clone,
          env: env(),
          encoding: 'utf8',
          timeout: 120_000,
        },
      );
    }

    it.each([
      ['npm start', ['npm', 'start'], 'start'],
      ['npm test', ['npm', 'test'], 'test'],
    ] as const)(
      '%s as a normal user: one message with the packages and the command, no work done',
      (command, argv, scope) => {
        const r = asNobody([...argv]);
        const out = `${r.stdout}\n${r.stderr}`;
        expect(r.status).not.toBe(0);
        const wanted = missingHere(scope);
        expect(out).toContain(`${command} needs ${wanted.length} Debian package(s) that are not installed:`);
        expect(out).toContain(
          `sudo apt-get install -y --no-install-recommends ${wanted.map((p) => p.package).join(' ')}`,
        );
        expect(out).not.toMatch(/==> (validating|typecheck)/);
        expect(existsSync(join(clone, 'lib'))).toBe(false);
        expect(existsSync(join(clone, 'dist'))).toBe(false);
      },
      180_000,
    );

    it('as root: apt-get update and install of exactly the missing packages, with a progress line', () => {
      const r = spawnSync(
        join(bin, 'node'),
        [
          join(clone, 'node_modules/tsx/dist/cli.mjs'),
          'scripts/check-prerequisites.ts',
          'start',
          '--dry-run',
        ],
        { cwd: clone, env: env(), encoding: 'utf8', timeout: 120_000 },
      );
      expect(r.status).toBe(0);
      const start = missingHere('start').map((p) => p.package);
      expect(r.stdout.split('\n').filter(Boolean)).toEqual([
        `==> npm start: installing ${start.length} missing Debian package(s): ${start.join(' ')}`,
        '  would run apt-get update -qq',
        `  would run apt-get install -y -qq --no-install-recommends ${start.join(' ')}`,
      ]);
    }, 180_000);

    it('npx neonvm works right after npm ci: lib/ is compiled on first use, then reused', () => {
      const run = (args: string[]) =>
        spawnSync(join(bin, 'npx'), ['neonvm', ...args], {
          cwd: clone,
          env: env(),
          encoding: 'utf8',
          timeout: 600_000,
        });
      const first = run(['validate', 'examples']);
      expect(first.stderr).toContain('neonvm: compiling lib/');
      expect(first.status).toBe(0);
      expect(first.stdout).toMatch(/NeonVM object\(s\) checked in \d+ file\(s\), 0 invalid/);
      const second = run(['crds']);
      expect(second.status).toBe(0);
      expect(second.stderr).not.toContain('compiling');
      expect(second.stdout).toContain('kind: CustomResourceDefinition');
    }, 600_000);
  },
);
