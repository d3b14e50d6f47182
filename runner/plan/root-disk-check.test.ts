import { checkRootDiskInfo } from './root-disk-check';

const IMAGE = 'tenant/app:1';
const qcow2 = { format: 'qcow2', 'virtual-size': 1 << 30, 'format-specific': { type: 'qcow2', data: {} } };

describe('checkRootDiskInfo (qemu-img info of the disk from spec.guest.rootDisk.image)', () => {
  it('accepts a standalone qcow2 and returns its virtual size', () => {
    expect(checkRootDiskInfo(qcow2, IMAGE)).toBe(1n << 30n);
  });

  it.each<[string, object, RegExp]>([
    [
      'a backing file on the node',
      { ...qcow2, 'backing-filename': '/etc/shadow', 'full-backing-filename': '/etc/shadow' },
      /backing file \("\/etc\/shadow"\)/,
    ],
    [
      'an external data file',
      { ...qcow2, 'format-specific': { type: 'qcow2', data: { 'data-file': '/dev/sda' } } },
      /external data file/,
    ],
    ['another format', { ...qcow2, format: 'raw' }, /is raw, not qcow2/],
    ['no size', { format: 'qcow2' }, /no valid virtual size/],
  ])('refuses %s, naming the field and the image', (_d, info, message) => {
    expect(() => checkRootDiskInfo(info, IMAGE)).toThrow(message);
    expect(() => checkRootDiskInfo(info, IMAGE)).toThrow(
      /^spec\.guest\.rootDisk\.image "tenant\/app:1": \/disk\.qcow2 /,
    );
  });
});
