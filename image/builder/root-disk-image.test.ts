import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageStore } from '../../cluster/image-store';
import { ValidationError, type VirtualMachine } from '../../crds';
import { vmFixture } from '../../crds/testing';
import { rootDiskOf } from './root-disk-image';

let dir: string;
let store: ImageStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'neonvm-root-disk-'));
  store = new ImageStore(join(dir, 'store'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const vmNaming = (image: string): VirtualMachine =>
  vmFixture((vm) => {
    vm.spec.guest.rootDisk.image = image;
  });

function errorOf(f: () => unknown): ValidationError {
  try {
    f();
  } catch (e) {
    if (e instanceof ValidationError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('rootDiskOf', () => {
  it("finds the built image's disk under any spelling of the reference", () => {
    const files = join(dir, 'disk-dir');
    mkdirSync(files);
    writeFileSync(join(files, 'disk.qcow2'), 'qcow2');
    store.register('myimg:1', { entrypoint: [], files });
    expect(rootDiskOf(vmNaming('docker.io/library/myimg:1'), store)).toBe(join(files, 'disk.qcow2'));
  });

  it('names the field, the canonical reference and the store for an image that is not there', () => {
    const e = errorOf(() => rootDiskOf(vmNaming('myimg:2'), store));
    expect(e.errors).toEqual([
      expect.objectContaining({
        path: 'spec.guest.rootDisk.image',
        rule: 'image-in-store',
        value: 'myimg:2',
      }),
    ]);
    expect(e.message).toContain(`no image docker.io/library/myimg:2 in the local image store ${store.dir}`);
    expect(e.message).toContain('neonvm image build');
  });

  it('refuses an image that is not a VM disk (a container image of the local cluster)', () => {
    store.register('busybox:latest', { entrypoint: [], cmd: ['/bin/sh'] });
    const e = errorOf(() => rootDiskOf(vmNaming('busybox'), store));
    expect(e.errors[0]).toMatchObject({ path: 'spec.guest.rootDisk.image', rule: 'vm-disk-image' });
  });
});
