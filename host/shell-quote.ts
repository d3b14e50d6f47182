/** POSIX shell single-quoting, for the scripts the guest runs (command.sh, env.sh, mounts.sh). */

const SAFE = /^[A-Za-z0-9_\-./:=@%+,]+$/;

export function shellQuote(word: string): string {
  if (word !== '' && SAFE.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function shellJoin(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}
