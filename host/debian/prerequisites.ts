/**
 * The Debian packages `npm start` and `npm test` need, checked before either does any work: the one
 * list CI installs too (scripts/ci-apt-packages.txt), each package with the command or file that
 * shows it is there. As root the missing ones are installed with apt-get; otherwise the user gets one
 * message naming them and the command to run. Parsing and planning are pure; `checkPrerequisites`
 * takes the probe and the installer as parameters so the decisions are tested without a machine.
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** Who needs a package: `start` lines are needed by `npm start` (and tests); the rest by tests only. */
export type PrerequisiteScope = 'start' | 'test';

export interface AptPrerequisite {
  readonly package: string;
  /** A command looked up on PATH, or an absolute file path. */
  readonly probe: string;
  readonly neededBy: PrerequisiteScope;
}

/** Parses scripts/ci-apt-packages.txt (`<package> <probe> [start]`, `#` comments). */
export function parseAptPrerequisites(text: string): AptPrerequisite[] {
  const out: AptPrerequisite[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    const [pkg, probe, scope, ...rest] = line.split(/\s+/);
    if (!pkg || !probe || (scope !== undefined && scope !== 'start') || rest.length > 0)
      throw new Error(`ci-apt-packages.txt:${i + 1}: expected '<package> <probe> [start]', got '${raw}'`);
    out.push({ package: pkg, probe, neededBy: scope === 'start' ? 'start' : 'test' });
  });
  return out;
}

/** The prerequisites a command needs: `npm test` needs every line, `npm start` the `start` ones. */
export function prerequisitesFor(
  all: readonly AptPrerequisite[],
  scope: PrerequisiteScope,
): AptPrerequisite[] {
  return scope === 'test' ? [...all] : all.filter((p) => p.neededBy === 'start');
}

/** Whether a probe is satisfied: an absolute path that exists, or an executable on `path`. */
export function probeSatisfied(probe: string, path: string): boolean {
  if (isAbsolute(probe)) return existsSync(probe);
  return path
    .split(delimiter)
    .filter(Boolean)
    .some((dir) => {
      try {
        accessSync(join(dir, probe), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

export function aptInstallCommand(packages: readonly string[]): string[] {
  return ['apt-get', 'install', '-y', '--no-install-recommends', ...packages];
}

/** The one message a non-root user gets: what is missing and the command that installs it. */
export function missingPackagesMessage(command: string, missing: readonly AptPrerequisite[]): string {
  const names = missing.map((p) => p.package);
  return [
    `${command} needs ${missing.length} Debian package(s) that are not installed:`,
    ...missing.map((p) => `  ${p.package.padEnd(18)} (no ${p.probe})`),
    'Install them as root, then run the command again:',
    `  sudo ${['apt-get', 'update'].join(' ')} && sudo ${aptInstallCommand(names).join(' ')}`,
    `(run as root, ${command} installs them itself)`,
  ].join('\n');
}

export interface CheckPrerequisitesOptions {
  /** What the user ran (`npm start`, `npm test`), for the messages. */
  readonly command: string;
  readonly scope: PrerequisiteScope;
  readonly prerequisites: readonly AptPrerequisite[];
  readonly isRoot: boolean;
  readonly probe: (probe: string) => boolean;
  /** Installs the packages (root only); progress goes through `progress`. */
  readonly install: (packages: readonly string[]) => Promise<void>;
  readonly progress: (line: string) => void;
}

export type CheckPrerequisitesResult =
  | { readonly ok: true; readonly installed: readonly string[] }
  | { readonly ok: false; readonly message: string };

/** Checks, and as root installs, what `scope` needs; re-checks after installing. */
export async function checkPrerequisites(o: CheckPrerequisitesOptions): Promise<CheckPrerequisitesResult> {
  const needed = prerequisitesFor(o.prerequisites, o.scope);
  const missing = needed.filter((p) => !o.probe(p.probe));
  if (missing.length === 0) return { ok: true, installed: [] };
  if (!o.isRoot) return { ok: false, message: missingPackagesMessage(o.command, missing) };
  const names = missing.map((p) => p.package);
  o.progress(`==> ${o.command}: installing ${names.length} missing Debian package(s): ${names.join(' ')}`);
  await o.install(names);
  const still = missing.filter((p) => !o.probe(p.probe));
  if (still.length > 0)
    return {
      ok: false,
      message: `apt-get installed ${names.join(' ')} but these are still missing: ${still
        .map((p) => `${p.probe} (${p.package})`)
        .join(', ')}`,
    };
  return { ok: true, installed: names };
}

/** Reads the repository's list (scripts/ci-apt-packages.txt). */
export function readAptPrerequisites(file: string): AptPrerequisite[] {
  return parseAptPrerequisites(readFileSync(file, 'utf8'));
}
