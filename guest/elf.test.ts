import { parseInterpreter, parseNeeded } from './elf';

describe('readelf parsing', () => {
  it('extracts NEEDED sonames in order', () => {
    const out = ` 0x0000000000000001 (NEEDED)             Shared library: [libtomcrypt.so.1]
 0x0000000000000001 (NEEDED)             Shared library: [libc.so.6]
 0x000000000000000c (INIT)               0x4000`;
    expect(parseNeeded(out)).toEqual(['libtomcrypt.so.1', 'libc.so.6']);
    expect(parseNeeded('There is no dynamic section in this file.')).toEqual([]);
  });

  it('extracts the program interpreter', () => {
    expect(parseInterpreter('      [Requesting program interpreter: /lib64/ld-linux-x86-64.so.2]')).toBe(
      '/lib64/ld-linux-x86-64.so.2',
    );
    expect(parseInterpreter('Elf file type is EXEC')).toBeUndefined();
  });
});
