import type { Command } from 'commander';
import { classifyVirtualMachineChange, type ChangeReport, type VirtualMachine } from '../../crds';
import { deepEqualJson, describeObject, expandManifestPaths, readManifestFile } from '../manifest-files';

const VERDICT_TEXT = { live: 'LIVE   ', restart: 'RESTART', rejected: 'REJECT ' } as const;

export function formatChangeReport(report: ChangeReport): string {
  if (report.overall === 'none') return 'no changes';
  const lines = report.changes.map(
    (c) =>
      `${VERDICT_TEXT[c.verdict]} ${c.path}: ${JSON.stringify(c.before) ?? '<unset>'} -> ${JSON.stringify(c.after) ?? '<unset>'} (${c.reason})`,
  );
  lines.push(`overall: ${report.overall}`);
  return lines.join('\n');
}

/** What happened to one object between the two sides. */
export type ObjectDiff =
  | { readonly object: string; readonly status: 'added' | 'removed' | 'unchanged' }
  /** A VirtualMachine: per field, live / restart / rejected. */
  | { readonly object: string; readonly status: 'changed'; readonly report: ChangeReport }
  /** Another kind that changed: shown, not classified. */
  | { readonly object: string; readonly status: 'changed-other' };

/** kind/namespace/name: how objects are matched across files, documents and directories. */
function identity(o: Record<string, unknown>): string {
  return describeObject(o);
}

function objectsOf(paths: readonly string[]): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const file of expandManifestPaths(paths)) {
    for (const { object } of readManifestFile(file)) {
      const id = identity(object);
      if (out.has(id)) throw new Error(`${file}: ${id} appears twice on the same side`);
      out.set(id, object);
    }
  }
  return out;
}

/**
 * Matches every object of the old side to the new side by kind, namespace and name — across
 * multi-document files and directories — and classifies each changed VirtualMachine.
 */
export function diffManifests(oldPaths: readonly string[], newPaths: readonly string[]): ObjectDiff[] {
  const before = objectsOf(oldPaths);
  const after = objectsOf(newPaths);
  const out: ObjectDiff[] = [];
  for (const id of new Set([...before.keys(), ...after.keys()])) {
    const b = before.get(id);
    const a = after.get(id);
    if (!b) out.push({ object: id, status: 'added' });
    else if (!a) out.push({ object: id, status: 'removed' });
    else if (a.kind === 'VirtualMachine') {
      const report = classifyVirtualMachineChange(
        b as unknown as VirtualMachine,
        a as unknown as VirtualMachine,
      );
      out.push(
        report.overall === 'none'
          ? { object: id, status: 'unchanged' }
          : { object: id, status: 'changed', report },
      );
    } else out.push({ object: id, status: deepEqualJson(a, b) ? 'unchanged' : 'changed-other' });
  }
  return out;
}

export function formatManifestDiff(diffs: readonly ObjectDiff[]): string {
  const changed = diffs.filter((d) => d.status !== 'unchanged');
  if (changed.length === 0) return `no changes (${diffs.length} object(s) compared)`;
  const blocks = changed.map((d) => {
    switch (d.status) {
      case 'changed':
        return `${d.object}:\n${formatChangeReport(d.report).replace(/^/gm, '  ')}`;
      case 'changed-other':
        return `${d.object}: changed (not a VirtualMachine: applied as any other object)`;
      default:
        return `${d.object}: ${d.status}`;
    }
  });
  return `${blocks.join('\n')}\n${changed.length} of ${diffs.length} object(s) changed`;
}

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description(
      'say, per changed field of each VM, whether an edit applies live, needs a restart, or is rejected',
    )
    .argument('<old>', 'the current manifests (a file, multi-document or not, or a directory)')
    .argument('<new>', 'the edited manifests; objects are matched by kind, namespace and name')
    .option('--json', 'print the result as JSON')
    .action((oldPath: string, newPath: string, opts: { json?: boolean }) => {
      const diffs = diffManifests([oldPath], [newPath]);
      console.log(opts.json ? JSON.stringify(diffs, null, 2) : formatManifestDiff(diffs));
      if (diffs.some((d) => d.status === 'changed' && d.report.overall === 'rejected')) process.exitCode = 2;
    });
}
