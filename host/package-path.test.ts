import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findUpwards, packagePath } from './package-path';

describe('findUpwards', () => {
  const root = mkdtempSync(join(tmpdir(), 'neonvm-pp-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'crds', 'generated'), { recursive: true });
  mkdirSync(join(root, 'lib', 'cli', 'local'), { recursive: true });

  it('finds a sibling tree from the compiled output', () => {
    expect(findUpwards(join(root, 'lib', 'cli', 'local'), 'crds/generated')).toBe(
      join(root, 'crds', 'generated'),
    );
  });

  it('says what is missing', () => {
    expect(findUpwards(join(root, 'lib'), 'no/such/dir')).toBeUndefined();
    expect(() => packagePath(join(root, 'lib'), 'no/such/dir')).toThrow(/cannot find no\/such\/dir/);
  });
});
