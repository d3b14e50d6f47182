/**
 * `npm start` and `npm test` run this before doing any work (scripts/start.sh, scripts/test.sh):
 *
 *   tsx scripts/check-prerequisites.ts start [npm start's arguments]
 *   tsx scripts/check-prerequisites.ts test
 *   ... --dry-run    say what would be installed, install nothing
 *
 * The Debian packages come from scripts/ci-apt-packages.txt, the list CI installs. As root the
 * missing ones are installed (apt-get update first, with progress lines); otherwise one message names
 * them and the command, and the exit code is 1. Node and Go are handled before and after this by
 * scripts/ensure-node.sh and scripts/ensure-go.sh (neither is a usable Debian package on Debian 12).
 */
import { join } from 'node:path';
import {
  checkPrerequisites,
  probeSatisfied,
  readAptPrerequisites,
  runText,
  type PrerequisiteScope,
} from '../host';

const repo = join(__dirname, '..');

async function main(argv: readonly string[]): Promise<number> {
  const [scopeArg, ...rest] = argv;
  if (scopeArg !== 'start' && scopeArg !== 'test') {
    console.error('usage: check-prerequisites.ts start|test [--dry-run] [npm start arguments]');
    return 2;
  }
  const scope: PrerequisiteScope = scopeArg;
  const dryRun = rest.includes('--dry-run');
  const command = `npm ${scope}`;
  // Stages 1-2 of npm start and the unit-test scope run on Node alone.
  if (scope === 'start' && rest.includes('--no-cluster')) return 0;
  if (scope === 'test' && process.env.NEONVM_TEST_SCOPE === 'unit') return 0;
  const isRoot = process.getuid?.() === 0;
  const progress = (line: string) => console.log(line);
  const started = Date.now();
  const result = await checkPrerequisites({
    command,
    scope,
    prerequisites: readAptPrerequisites(join(repo, 'scripts', 'ci-apt-packages.txt')),
    isRoot,
    // The probe sees the PATH the command runs with: a tool outside it counts as missing.
    probe: (p) => probeSatisfied(p, process.env.PATH ?? ''),
    progress,
    install: async (packages) => {
      const steps: string[][] = [
        // arm64 packages are downloaded (never installed) for the aarch64 guest and runner image.
        ...(scope === 'test' ? [['dpkg', '--add-architecture', 'arm64']] : []),
        ['apt-get', 'update', '-qq'],
        ['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...packages],
      ];
      for (const argv of steps) {
        progress(`  ${dryRun ? 'would run' : '$'} ${argv.join(' ')}`);
        if (!dryRun) await runText(argv, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
      }
    },
  });
  if (!result.ok) {
    if (dryRun && isRoot) return 0; // nothing was installed, so the re-check cannot pass
    console.error(result.message);
    return 1;
  }
  if (result.installed.length > 0) progress(`  installed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (scope === 'start' && !isRoot) {
    console.error(
      `${command}: the local cluster (stage 3) needs root (a network namespace per pod, bridges, iptables).\n` +
        `Run it as root, or \`npm start -- --no-cluster\` for stages 1-2 (validate, render, synthesize).`,
    );
    return 1;
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
