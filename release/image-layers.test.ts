import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planLayers, plannedBytes } from './image-layers';

describe('plannedBytes', () => {
  it('counts file contents once: hard links, links and directories are free', () => {
    expect(
      plannedBytes([
        {
          name: 'a',
          entries: [
            { kind: 'dir', path: 'd' },
            { kind: 'file', path: 'd/f', content: 'héllo' },
            { kind: 'host-file', path: 'd/k', source: '/x', size: 1000 },
            { kind: 'hardlink', path: 'd/k2', target: 'd/k' },
            { kind: 'symlink', path: 'd/s', target: 'f' },
          ],
        },
        { name: 'b', entries: [{ kind: 'file', path: 'g', content: Buffer.alloc(10) }] },
      ]),
    ).toBe(6 + 1000 + 10);
  });
});

describe('planLayers', () => {
  it('puts node alone in a layer every image shares, the image-specific files above it', async () => {
    const userland = mkdtempSync(join(tmpdir(), 'layers-'));
    try {
      const staged = { userland, nodeBinary: '/stage/node', nodeBinarySize: 100, app: [] };
      const op = await planLayers('operator', staged);
      const dp = await planLayers('device-plugin', staged);
      expect(op.map((l) => l.name)).toEqual(['debian packages', 'node', 'system files', 'neonvm']);
      expect(dp[1]).toEqual(op[1]);
      expect(dp[1].entries).toEqual([
        { kind: 'host-file', path: 'usr/local/bin/node', mode: 0o755, source: '/stage/node', size: 100 },
      ]);
      expect(dp[2]).not.toEqual(op[2]);
    } finally {
      rmSync(userland, { recursive: true, force: true });
    }
  });
});
