/** Parsing `apt-cache depends` output to find the shared-library packages a binary package needs. */

/**
 * Maps each package stanza of `apt-cache depends --no-recommends ...` to its Depends/PreDepends.
 * Alternatives ("|Depends: a" followed by "Depends: b") are all listed; virtual packages
 * ("<name>") are dropped because they cannot be downloaded.
 */
export function parseAptDepends(output: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of output.split('\n')) {
    if (line === '') continue;
    if (!line.startsWith(' ')) {
      current = [];
      out.set(line.trim(), current);
      continue;
    }
    const m = /^\s+\|?(?:Pre)?Depends: (\S+)/.exec(line);
    if (m && current && !m[1]!.startsWith('<')) current.push(m[1]!.replace(/:any$/, ''));
  }
  return out;
}

/**
 * Library packages are the ones whose only job is to ship shared objects; following only those
 * keeps the closure small (no perl, debconf, adduser...). Debian names them lib* (plus zlib1g).
 */
export function isLibraryPackage(name: string): boolean {
  return /^lib/.test(name) || name === 'zlib1g';
}
