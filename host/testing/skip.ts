/**
 * Conditional suites and tests that say why they skip: the reason goes into the skipped title after
 * SKIP_MARK, where scripts/jest-summary.js finds it and prints it in the run's summary line.
 *
 *   describeIf(process.getuid?.() === 0, 'needs root (network namespaces)')('overlay network', () => { ... });
 */
export const SKIP_MARK = 'SKIPPED: ';

type Block = (name: string, fn: jest.EmptyFunction) => void;
type Test = (name: string, fn: jest.ProvidesCallback, timeoutMs?: number) => void;

function skippedTitle(name: string, reason: string): string {
  return `${name} — ${SKIP_MARK}${reason}`;
}

/** `describe` when `condition` holds, else a skipped suite whose title carries `reason`. */
export function describeIf(condition: boolean, reason: string): Block {
  if (condition) return describe;
  return (name, fn) => describe.skip(skippedTitle(name, reason), fn);
}

/** `it` when `condition` holds, else a skipped test whose title carries `reason`. */
export function itIf(condition: boolean, reason: string): Test {
  if (condition) return it;
  return (name, fn, timeoutMs) => it.skip(skippedTitle(name, reason), fn, timeoutMs);
}
