import type { Command } from 'commander';
import { classifyVirtualMachineChange, type ChangeReport, type VirtualMachine } from '../../crds';
import { readManifestFile } from '../manifest-files';

function loadVm(file: string): VirtualMachine {
  const vm = readManifestFile(file).find((s) => s.object.kind === 'VirtualMachine');
  if (!vm) throw new Error(`${file}: no VirtualMachine found`);
  return vm.object as unknown as VirtualMachine;
}

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

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description(
      'say, per changed field, whether an edit to a VM applies live, needs a restart, or is rejected',
    )
    .argument('<old>', 'the current VirtualMachine (file)')
    .argument('<new>', 'the edited VirtualMachine (file)')
    .option('--json', 'print the report as JSON')
    .action((oldFile: string, newFile: string, opts: { json?: boolean }) => {
      const report = classifyVirtualMachineChange(loadVm(oldFile), loadVm(newFile));
      console.log(opts.json ? JSON.stringify(report, null, 2) : formatChangeReport(report));
      if (report.overall === 'rejected') process.exitCode = 2;
    });
}
