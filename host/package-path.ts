/**
 * Finds files that ship next to the code (crds/generated, examples, scripts) from both the sources
 * (`<repo>/cli/...`) and the compiled output (`<repo>/lib/cli/...`, or an installed package), by walking
 * up from the calling module's directory until the relative path exists.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function findUpwards(from: string, relative: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = join(dir, relative);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Like findUpwards, but a missing path is a packaging error worth a clear message. */
export function packagePath(from: string, relative: string): string {
  const found = findUpwards(from, relative);
  if (!found) throw new Error(`cannot find ${relative} above ${from} (incomplete installation?)`);
  return found;
}
