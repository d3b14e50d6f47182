import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffManifests, formatManifestDiff } from './diff';

const vm = (name: string, use: number, disk = '1Gi', namespace?: string) => `apiVersion: vm.neon.tech/v1
kind: VirtualMachine
metadata:
  name: ${name}${namespace ? `\n  namespace: ${namespace}` : ''}
spec:
  guest:
    cpus: { min: 1, max: 4, use: ${use} }
    rootDisk: { image: vm-postgres:15-bullseye }
  disks:
    - name: data
      mountPath: /data
      emptyDisk: { size: ${disk} }
    - name: cache
      mountPath: /cache
      tmpfs: { size: 1Gi }
`;
const cm = (value: string) => `apiVersion: v1
kind: ConfigMap
metadata: { name: settings }
data: { a: "${value}" }
`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'neonvm-diff-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, ...docs: string[]): string {
  const file = join(dir, name);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, docs.join('---\n'));
  return file;
}

test('an edit to the second VM of a multi-document file is found (objects matched by kind/namespace/name)', () => {
  const before = write('old.yaml', vm('a', 1), vm('b', 1));
  // Reordered documents, only b changed.
  const after = write('new.yaml', vm('b', 2), vm('a', 1));
  const diffs = diffManifests([before], [after]);
  expect(diffs.map((d) => [d.object, d.status])).toEqual([
    ['VirtualMachine/a', 'unchanged'],
    ['VirtualMachine/b', 'changed'],
  ]);
  expect(formatManifestDiff(diffs)).toBe(
    [
      'VirtualMachine/b:',
      '  LIVE    spec.guest.cpus.use: 1 -> 2 (CPU hot-plug into the running guest)',
      '  overall: live',
      '1 of 2 object(s) changed',
    ].join('\n'),
  );
});

test('directories: added, removed and other kinds; namespaces keep same-named VMs apart', () => {
  write('old/vms.yaml', vm('a', 1, '1Gi', 'x'), vm('a', 1, '1Gi', 'y'));
  write('old/cm.yaml', cm('1'));
  write('new/vms.yaml', vm('a', 1, '1Gi', 'x'), vm('c', 1));
  write('new/cm.yaml', cm('2'));
  const diffs = diffManifests([join(dir, 'old')], [join(dir, 'new')]);
  expect(Object.fromEntries(diffs.map((d) => [d.object, d.status]))).toEqual({
    'ConfigMap/settings': 'changed-other',
    'VirtualMachine/x/a': 'unchanged',
    'VirtualMachine/y/a': 'removed',
    'VirtualMachine/c': 'added',
  });
});

test('disks are reported per disk and field, each with the verdict', () => {
  const diffs = diffManifests([write('old.yaml', vm('a', 1, '1Gi'))], [write('new.yaml', vm('a', 1, '2Gi'))]);
  const text = formatManifestDiff(diffs);
  expect(text).toContain('REJECT  spec.disks[name=data].emptyDisk.size: "1Gi" -> "2Gi"');
  expect(text).not.toContain('cache');
});
