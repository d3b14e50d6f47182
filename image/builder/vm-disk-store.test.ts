import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageStore } from '../../cluster/image-store';
import {
  commitVmDisk,
  createBuildDir,
  VM_DISK_FILE,
  VM_IMAGE_METADATA_FILE,
  vmDisksRoot,
} from './vm-disk-store';

let work: string;
let store: ImageStore;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'vm-disk-store-'));
  store = new ImageStore(join(work, 'images'));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

describe('vm disk store', () => {
  it('removes build dirs of dead processes, keeps live ones', async () => {
    const root = vmDisksRoot(store);
    mkdirSync(join(root, '.build-999999999-abc'), { recursive: true });
    mkdirSync(join(root, '.commit-999999999-abc'), { recursive: true });
    mkdirSync(join(root, `.build-${process.pid}-old`), { recursive: true });
    const dir = await createBuildDir(root);
    expect(readdirSync(root).sort()).toEqual([`.build-${process.pid}-old`, dir.split('/').pop()].sort());
  });

  it('stores a disk content-addressed and registers every reference', async () => {
    writeFileSync(join(work, 'a.qcow2'), 'disk bytes');
    const stored = await commitVmDisk(store, join(work, 'a.qcow2'), ['org/app:1', 'org/app:latest'], {
      note: 'x',
    });
    expect(stored.dir).toMatch(/vm-disks\/sha256-[0-9a-f]{24}$/);
    expect(readFileSync(stored.disk, 'utf8')).toBe('disk bytes');
    expect(JSON.parse(readFileSync(join(stored.dir, VM_IMAGE_METADATA_FILE), 'utf8'))).toMatchObject({
      digest: stored.digest,
      note: 'x',
    });
    expect(store.resolve('org/app:1')).toEqual({ entrypoint: [], files: stored.dir });
    expect(store.resolve('docker.io/org/app')?.files).toBe(stored.dir);
  });

  it('reuses an identical disk and leaves no staging dirs', async () => {
    writeFileSync(join(work, 'a.qcow2'), 'same');
    writeFileSync(join(work, 'b.qcow2'), 'same');
    const a = await commitVmDisk(store, join(work, 'a.qcow2'), ['org/a:1'], {});
    const b = await commitVmDisk(store, join(work, 'b.qcow2'), ['org/b:1'], {});
    expect(b.dir).toBe(a.dir);
    expect(existsSync(join(a.dir, VM_DISK_FILE))).toBe(true);
    expect(readdirSync(vmDisksRoot(store)).filter((n) => n.startsWith('.'))).toEqual([]);
  });
});
