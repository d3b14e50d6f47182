import { parsePrintUris } from './debian-userland';

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
