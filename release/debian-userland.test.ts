import { controlField, dependsNames, parsePrintUris, recordedVersions } from './debian-userland';

describe('parsePrintUris', () => {
  it('reads file names and sizes of apt-get download --print-uris', () => {
    const out = [
      "'http://deb.debian.org/debian/pool/main/d/dash/dash_0.5.12-2_amd64.deb' dash_0.5.12-2_amd64.deb 91848 SHA256:33ea",
      "'http://deb.debian.org/debian/pool/main/q/qemu/qemu-system-data_7.2.deb' qemu-system-data_1%3a7.2+dfsg-7_all.deb 1297476 SHA256:8d76",
      'W: something else',
      '',
    ].join('\n');
    expect(parsePrintUris(out)).toEqual([
      { file: 'dash_0.5.12-2_amd64.deb', size: 91848 },
      { file: 'qemu-system-data_1%3a7.2+dfsg-7_all.deb', size: 1297476 },
    ]);
  });
});

describe('control data', () => {
  const control = [
    'Package: qemu-system-x86',
    'Source: qemu',
    'Version: 1:10.0.2+ds-2+deb13u1~bpo12+1',
    'Architecture: amd64',
    'Depends: libaio1 (>= 0.3.93), libc6 (>= 2.34), libglib2.0-0 (>= 2.67.3), qemu-system-common (= 1:10.0.2+ds-2+deb13u1~bpo12+1), seabios (>> 1.16.3-1~), ipxe-qemu',
    'Pre-Depends: libfoo1:any | libbar2',
    'Description: QEMU full system emulation binaries (x86)',
    ' QEMU is a fast processor emulator.',
    '',
  ].join('\n');

  it('reads fields', () => {
    expect(controlField(control, 'Version')).toBe('1:10.0.2+ds-2+deb13u1~bpo12+1');
    expect(controlField(control, 'Package')).toBe('qemu-system-x86');
    expect(controlField(control, 'Homepage')).toBeUndefined();
  });

  it('lists the names a Depends field needs, alternatives included', () => {
    expect(dependsNames(controlField(control, 'Depends')!)).toEqual([
      'libaio1',
      'libc6',
      'libglib2.0-0',
      'qemu-system-common',
      'seabios',
      'ipxe-qemu',
    ]);
    expect(dependsNames(controlField(control, 'Pre-Depends')!)).toEqual(['libfoo1', 'libbar2']);
    expect(dependsNames('')).toEqual([]);
  });

  it('reports the recorded version of each package asked for that the image has', () => {
    expect(
      recordedVersions(new Map([['qemu-system-x86', control]]), ['qemu-system-x86', 'qemu-utils']),
    ).toEqual({ 'qemu-system-x86': '1:10.0.2+ds-2+deb13u1~bpo12+1' });
  });
});
