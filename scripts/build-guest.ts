/**
 * Builds (or finds cached) guest artifacts and prints their paths as JSON.
 * Usage: npx tsx scripts/build-guest.ts [--arch x86_64|aarch64]
 */
import { GuestArch, ensureGuestArtifacts } from '../guest';

async function main(): Promise<void> {
  const i = process.argv.indexOf('--arch');
  const arch = i >= 0 ? (process.argv[i + 1] as GuestArch | undefined) : undefined;
  if (arch !== undefined && arch !== 'x86_64' && arch !== 'aarch64')
    throw new Error(`--arch: expected x86_64 or aarch64, got ${arch}`);
  const a = await ensureGuestArtifacts({ arch });
  console.log(JSON.stringify({ ...a, manifest: undefined }, null, 2));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
