import { hostCpuMhz, parseCpuMhz } from './cpu-info';

describe('cpu info', () => {
  it('reads the first cpu MHz line', () => {
    expect(parseCpuMhz('processor\t: 0\ncpu MHz\t\t: 2596.992\ncpu MHz\t\t: 1.0\n')).toBe(2596.992);
    expect(parseCpuMhz('processor\t: 0\nBogoMIPS\t: 50.00\n')).toBeUndefined();
    expect(hostCpuMhz('cpu MHz : 3000\n')).toBe(3000);
  });
});
