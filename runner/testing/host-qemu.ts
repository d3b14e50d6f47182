import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { archInfo, hostGuestArch } from '../../guest';
import { runText } from '../../host';

/**
 * The version of the QEMU on PATH, the one the runner and raw QEMU pairs start (Debian 12's 7.2, or
 * QEMU 10 with `scripts/ensure-qemu.sh` first on PATH), from `--version`.
 */
export async function hostQemuVersion(): Promise<{ major: number; minor: number; micro: number }> {
  const out = await runText([archInfo(hostGuestArch()).qemuBinary, '--version']);
  const m = /version (\d+)\.(\d+)\.(\d+)/.exec(out);
  if (!m) throw new Error(`cannot read the QEMU version from: ${out.split('\n')[0]}`);
  return { major: Number(m[1]), minor: Number(m[2]), micro: Number(m[3]) };
}

/**
 * The bin directory of QEMU 10 from bookworm-backports, the release runner image's QEMU, whatever the
 * host's is (`scripts/ensure-qemu.sh`: ~60 MB of .debs unpacked into the cache on the first call,
 * nothing installed). Put it first on a runner's PATH to start that runner on QEMU 10.
 */
export function releaseQemuBin(): string {
  return execFileSync('bash', [join(__dirname, '..', '..', 'scripts', 'ensure-qemu.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}
