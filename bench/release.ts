/**
 * Release images: build time (amd64, warm package caches) against the time zlib alone needs to
 * compress the same bytes (the floor of any tar+gzip image build), and each image's size against
 * the sum of its unpacked inputs (Debian userland, node, app, guest).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildRelease } from '../release';
import { cacheRoot } from '../host';
import type { BenchRow } from './table';

/** zlib level-6 throughput (bytes/s) on real binary data (the first 32 MiB of this node). */
function gzipThroughput(): number {
  const sample = readFileSync(process.execPath).subarray(0, 32 << 20);
  const t0 = process.hrtime.bigint();
  gzipSync(sample, { level: 6 });
  return sample.length / (Number(process.hrtime.bigint() - t0) / 1e9);
}

export async function benchRelease(): Promise<BenchRow[]> {
  const out = mkdtempSync(join(tmpdir(), 'neonvm-bench-release-'));
  try {
    const t0 = Date.now();
    const result = await buildRelease({
      repoDir: resolve(__dirname, '..'),
      outDir: out,
      archs: ['amd64'],
      registry: 'bench.local',
      cacheDir: cacheRoot(),
      progress: () => undefined,
    });
    const seconds = (Date.now() - t0) / 1000;
    const inputs = result.images.reduce((n, i) => n + i.inputBytes, 0);
    const floor = inputs / gzipThroughput();
    const mib = (n: number): number => Math.round((n / 1024 / 1024) * 10) / 10;
    const rows: BenchRow[] = [
      {
        name: 'build:images, operator + runner amd64 (warm caches)',
        value: Math.round(seconds * 10) / 10,
        unit: 's',
        baseline: Math.round(floor * 10) / 10,
        baselineName: 'zlib -6 of the same input bytes alone',
        ratio: Math.round((seconds / floor) * 100) / 100,
      },
    ];
    for (const img of result.images)
      rows.push({
        name: `${img.name} image (compressed layout)`,
        value: mib(img.layoutBytes),
        unit: 'MiB',
        baseline: mib(img.inputBytes),
        baselineName: 'sum of its unpacked inputs',
        ratio: Math.round((img.layoutBytes / img.inputBytes) * 100) / 100,
      });
    return rows;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
