import { isLibraryPackage, parseAptDepends } from './apt-depends';

describe('parseAptDepends', () => {
  it('parses stanzas, alternatives and drops virtual packages', () => {
    const out = `dropbear-bin
  Depends: libc6
  Depends: libcrypt1
 |Depends: libtomcrypt1
  Depends: zlib1g
chrony
  PreDepends: init-system-helpers
  Depends: <debconf-2.0>
  Depends: perl:any
`;
    const m = parseAptDepends(out);
    expect(m.get('dropbear-bin')).toEqual(['libc6', 'libcrypt1', 'libtomcrypt1', 'zlib1g']);
    expect(m.get('chrony')).toEqual(['init-system-helpers', 'perl']);
  });

  it('recognises library packages', () => {
    expect(['libc6', 'zlib1g', 'libgnutls30'].every(isLibraryPackage)).toBe(true);
    expect(['adduser', 'perl', 'gcc-12-base'].some(isLibraryPackage)).toBe(false);
  });
});
