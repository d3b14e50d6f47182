/**
 * What a spec change will do to a running VM, as preview warnings: the `crds` change classifier
 * (hot-plug live / next runner pod / rejected) turned into one readable line per field.
 */
import { classifyVirtualMachineChange, type ChangeReport, type VirtualMachine } from '../crds';

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

/** The warning for a planned update, or undefined when nothing in the spec or labels changes. */
export function virtualMachineChangeWarning(
  previous: VirtualMachine,
  next: VirtualMachine,
): string | undefined {
  const name = next.metadata?.name ?? previous.metadata?.name ?? '';
  return describeChangeReport(`VirtualMachine ${name}`, classifyVirtualMachineChange(previous, next));
}
