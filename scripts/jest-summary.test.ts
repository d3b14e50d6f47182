/** The summary line names every skipped test's file and reason (from host/testing/skip.ts titles). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '..');

function summarize(results: object[]): { status: number | null; stdout: string } {
  const dir = mkdtempSync(join(tmpdir(), 'jest-summary-'));
  try {
    const files = results.map((r, i) => {
      const f = join(dir, `${i}.json`);
      writeFileSync(f, JSON.stringify(r));
      return f;
    });
    const out = spawnSync(process.execPath, [join(root, 'scripts/jest-summary.js'), ...files], {
      encoding: 'utf8',
    });
    return { status: out.status, stdout: out.stdout.trim() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const counts = {
  numPassedTests: 3,
  numFailedTests: 0,
  numPendingTests: 0,
  numTodoTests: 0,
  numRuntimeErrorTestSuites: 0,
};
const assertion = (status: string, title: string, ancestorTitles: string[] = []) => ({
  status,
  title,
  ancestorTitles,
});

describe('jest-summary', () => {
  it('prints the totals and, per file, why tests were skipped', () => {
    const r = summarize([
      {
        ...counts,
        numPendingTests: 3,
        testResults: [
          {
            name: join(root, 'runner/overlay.int.test.ts'),
            assertionResults: [
              assertion('passed', 'a'),
              assertion('pending', 'attaches eth1', ['overlay — SKIPPED: needs root (network namespaces)']),
              assertion('pending', 'pings', ['overlay — SKIPPED: needs root (network namespaces)']),
            ],
          },
          { name: join(root, 'x/y.test.ts'), assertionResults: [assertion('pending', 'forgotten')] },
        ],
      },
    ]);
    expect(r.stdout).toBe(
      'tests: 3 passed, 0 failed, 3 skipped (2 in runner/overlay.int.test.ts: needs root (network namespaces); ' +
        '1 in x/y.test.ts: no reason given)',
    );
    expect(r.status).toBe(0);
  });

  it('fails the run on failed tests or a missing result file', () => {
    expect(summarize([{ ...counts, numFailedTests: 1, testResults: [] }]).status).toBe(1);
    const missing = spawnSync(process.execPath, [join(root, 'scripts/jest-summary.js'), '/nonexistent.json']);
    expect(missing.status).toBe(1);
  });
});
