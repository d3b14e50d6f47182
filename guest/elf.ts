/** Parsing `readelf` output: which shared libraries a binary needs and which loader it names. */

/** NEEDED sonames from `readelf -d` output. */
export function parseNeeded(readelfDynamic: string): string[] {
  const out: string[] = [];
  for (const m of readelfDynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)) out.push(m[1]!);
  return out;
}

/** PT_INTERP path from `readelf -l` output, or undefined for static binaries. */
export function parseInterpreter(readelfProgramHeaders: string): string | undefined {
  return /\[Requesting program interpreter: ([^\]]+)\]/.exec(readelfProgramHeaders)?.[1];
}
