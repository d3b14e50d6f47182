/**
 * The fault suite's results: one line per scenario (what was done, what happened, the figure that shows
 * it), appended to `FAULTS_REPORT` (a JSON-lines file) when set, and printed as the table of
 * `npm run faults` and of the README's reliability section.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';

export interface FaultResult {
  readonly scenario: string;
  readonly outcome: string;
  readonly figure: string;
  readonly passed: boolean;
}

export function recordFault(result: FaultResult): void {
  const file = process.env.FAULTS_REPORT;
  if (file) appendFileSync(file, `${JSON.stringify(result)}\n`);
}

export function readFaults(file: string): FaultResult[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as FaultResult);
}

/** A Markdown table (scenario, outcome, figure). */
export function faultTable(results: readonly FaultResult[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    '| scenario | outcome | figure |',
    '|---|---|---|',
    ...results.map(
      (r) => `| ${esc(r.scenario)} | ${r.passed ? '' : '**FAILED** '}${esc(r.outcome)} | ${esc(r.figure)} |`,
    ),
  ].join('\n');
}
