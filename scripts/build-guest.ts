/**
 * Builds (or finds cached) guest artifacts and prints their paths as JSON.
 * Usage: npx tsx scripts/build-guest.ts [--arch amd64|arm64]
 */
import { GUEST_ARCHES, ensureGuestArtifacts } from '../guest';

async function main(): Promise<void> {
  const i = process.argv.indexOf('--arch');
  const given = i >= 0 ? process.argv[i + 1] : undefined;
  const arch = GUEST_ARCHES.find((a) => a === given);
  if (given !== undefined && !arch)
    throw new Error(`--arch: expected ${GUEST_ARCHES.join(' or ')}, got ${given}`);
  const a = await ensureGuestArtifacts({ arch });
  console.log(JSON.stringify({ ...a, manifest: undefined }, null, 2));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
