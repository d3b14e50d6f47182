import type { V1Pod } from '@kubernetes/client-node';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PodFilesystem, safeRelative } from './pod-filesystem';

describe('PodFilesystem', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'pod-fs-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('maps each mountPath into the container root as a symlink to its volume', () => {
    const fs = new PodFilesystem(join(dir, 'pod'), join(dir, 'tmp'));
    const pod: V1Pod = {
      spec: {
        containers: [],
        volumes: [
          { name: 'images', emptyDir: {} },
          { name: 'cfg', configMap: { name: 'cm' } },
        ],
      },
    };
    fs.setupVolumes(pod, () => ({ 'a.conf': { data: Buffer.from('A') } }));
    const root = fs.prepareContainerRoot(pod, {
      name: 'runner',
      volumeMounts: [
        { name: 'images', mountPath: '/vm/images' },
        { name: 'cfg', mountPath: '/etc/app' },
        { name: 'images', mountPath: '/scratch', subPath: 'tmp' },
      ],
    });
    expect(readlinkSync(join(root, 'vm/images'))).toBe(fs.volumeDir('images'));
    expect(readFileSync(join(root, 'etc/app/a.conf'), 'utf8')).toBe('A');
    writeFileSync(join(root, 'scratch', 'f'), 'x');
    expect(readFileSync(join(fs.volumeDir('images'), 'tmp', 'f'), 'utf8')).toBe('x');
  });

  it('gives the pod a world-writable private temp directory that goes with the pod', () => {
    const fs = new PodFilesystem(join(dir, 'pod'), join(dir, 'tmp'));
    fs.prepareContainerRoot({ spec: { containers: [] } }, { name: 'runner' });
    expect(statSync(fs.tmpDir).mode & 0o7777).toBe(0o1777);
    writeFileSync(join(fs.tmpDir, 'qmp.sock'), '');
    fs.remove();
    expect(existsSync(fs.tmpDir)).toBe(false);
    expect(existsSync(fs.podDir)).toBe(false);
  });
});

describe('safeRelative', () => {
  it('strips the leading slash and refuses escapes', () => {
    expect(safeRelative('/vm/images')).toBe('vm/images');
    expect(() => safeRelative('/../etc')).not.toThrow();
    expect(() => safeRelative('../etc')).toThrow();
  });
});
