import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureNeighbourTableCapacity, neighbourThresholdsToRaise } from './neighbour-table';

describe('neighbour table limits', () => {
  it('raises only the limits below what the local clusters need, never lowers one', () => {
    expect(neighbourThresholdsToRaise({ gc_thresh2: 512, gc_thresh3: 1024 })).toEqual({
      gc_thresh2: 8192,
      gc_thresh3: 16384,
    });
    expect(neighbourThresholdsToRaise({ gc_thresh2: 10_000, gc_thresh3: 1024 })).toEqual({
      gc_thresh3: 16384,
    });
    expect(neighbourThresholdsToRaise({ gc_thresh2: 8192, gc_thresh3: 65536 })).toEqual({});
    expect(neighbourThresholdsToRaise({ gc_thresh2: NaN })).toEqual({ gc_thresh2: 8192, gc_thresh3: 16384 });
  });

  it('writes the raised values (gc_thresh3 first) and reports a directory it cannot write', () => {
    const dir = mkdtempSync(join(tmpdir(), 'neigh-'));
    try {
      writeFileSync(join(dir, 'gc_thresh2'), '512\n');
      writeFileSync(join(dir, 'gc_thresh3'), '20000\n');
      expect(ensureNeighbourTableCapacity(dir)).toEqual({ raised: ['gc_thresh2=8192'] });
      expect(readFileSync(join(dir, 'gc_thresh2'), 'utf8')).toBe('8192');
      expect(readFileSync(join(dir, 'gc_thresh3'), 'utf8')).toBe('20000\n');
      const missing = ensureNeighbourTableCapacity(join(dir, 'absent'));
      expect(missing.raised).toEqual([]);
      expect(missing.failed).toMatch(/absent\/gc_thresh3/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
