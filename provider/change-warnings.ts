/**
 * What a spec change will do to a running VM, as preview warnings: the `crds` change classifier
 * (hot-plug live / next runner pod / rejected) turned into one readable line per field.
 */
import { classifyVirtualMachineChange, type ChangeReport, type VirtualMachine } from '../crds';

const RANK = { live: 0, restart: 1, rejected: 2 } as const;

const VERDICT_TEXT = {
  live: 'applied live',
  restart: 'takes effect on the next runner pod (restart or migration)',
  rejected: 'will be REJECTED by the admission webhook',
} as const;

function show(v: unknown): string {
  return v === undefined ? '<unset>' : JSON.stringify(v);
}

export function describeChangeReport(subject: string, report: ChangeReport): string | undefined {
  if (report.overall === 'none') return undefined;
  const lines = report.changes.map(
    (c) => `  ${c.path}: ${show(c.before)} → ${show(c.after)} — ${VERDICT_TEXT[c.verdict]} (${c.reason})`,
  );
  return `${subject}: ${report.changes.length} change(s), overall ${report.overall}:\n${lines.join('\n')}`;
}

/**
 * The warning for a planned update, or undefined when nothing in the spec or labels changes. Fields
 * under `ignoredPaths` (the resource's `ignoreChanges`) are left out: Pulumi will not send them.
 */
export function virtualMachineChangeWarning(
  previous: VirtualMachine,
  next: VirtualMachine,
  ignoredPaths: readonly string[] = [],
): string | undefined {
  const name = next.metadata?.name ?? previous.metadata?.name ?? '';
  const report = classifyVirtualMachineChange(previous, next);
  const changes = report.changes.filter(
    (c) => !ignoredPaths.some((p) => c.path === p || c.path.startsWith(`${p}.`)),
  );
  const overall = changes.reduce<ChangeReport['overall']>(
    (acc, c) => (acc === 'none' || RANK[c.verdict] > RANK[acc] ? c.verdict : acc),
    'none',
  );
  return describeChangeReport(`VirtualMachine ${name}`, { changes, overall });
}
