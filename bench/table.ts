/** The shape every benchmark module returns, and the table `npm run bench` prints. */
export interface BenchRow {
  /** What was measured, e.g. "validate 1,000 VMs". */
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** The baseline measured in the same run (same unit), when there is one. */
  readonly baseline?: number;
  /** What the baseline is, e.g. "ajv alone". */
  readonly baselineName?: string;
  /** value / baseline. */
  readonly ratio?: number;
  /** A target the project sets for this row, e.g. "≤ 1.15×". */
  readonly target?: string;
}

export type BenchModule = () => Promise<BenchRow[]>;

function fmt(n: number | undefined): string {
  if (n === undefined || Number.isNaN(n)) return '';
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

export function renderTable(section: string, rows: readonly BenchRow[]): string {
  const header = ['benchmark', 'value', 'unit', 'baseline', 'baseline is', 'ratio', 'target'];
  const body = rows.map((r) => [
    r.name,
    fmt(r.value),
    r.unit,
    fmt(r.baseline),
    r.baselineName ?? '',
    r.ratio === undefined ? '' : `${fmt(r.ratio)}×`,
    r.target ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [
    `### ${section}`,
    line(header),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...body.map(line),
  ].join('\n');
}

/** Milliseconds of a synchronous or async function, best of `repeat` runs after one warm-up. */
export async function timeMs(fn: () => unknown, repeat = 5): Promise<number> {
  await fn();
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < repeat; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return best;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
