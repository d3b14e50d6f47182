import { sourceUrl } from './build-info';

describe('sourceUrl', () => {
  it('strips git+ and .git', () => {
    expect(sourceUrl('git+https://github.com/neonvm-ts/neonvm.git')).toBe(
      'https://github.com/neonvm-ts/neonvm',
    );
    expect(sourceUrl('https://github.com/neonvm-ts/neonvm')).toBe('https://github.com/neonvm-ts/neonvm');
  });
});
