import {
  checkMigrationTuning,
  migrationTuningProblem,
  DEFAULT_MIGRATION_TUNING,
  planMigrationTuning,
  planSourceMigration,
  planTargetMigration,
  usesMultifd,
  type MigrationTuning,
} from './migration-tuning';

const tuning = (t: Partial<MigrationTuning>): MigrationTuning => ({ ...DEFAULT_MIGRATION_TUNING, ...t });

describe('planMigrationTuning (golden)', () => {
  it('sets every tuning capability off by default (the behaviour before tuning existed); `compress` only named when on (QEMU 9.1 removed it)', () => {
    expect(planMigrationTuning(DEFAULT_MIGRATION_TUNING)).toEqual({
      capabilities: { xbzrle: false, multifd: false, 'zero-blocks': false },
      parameters: {},
    });
  });

  it("gives upstream's set: xbzrle with a 256 MiB cache, compress threads, zero-blocks", () => {
    expect(planMigrationTuning(tuning({ xbzrle: true, compression: 'compress', zeroBlocks: true }))).toEqual({
      capabilities: { xbzrle: true, compress: true, multifd: false, 'zero-blocks': true },
      parameters: { 'xbzrle-cache-size': 268435456, 'compress-threads': 2, 'decompress-threads': 2 },
    });
  });

  it.each([
    ['multifd', 'none'],
    ['multifd-zlib', 'zlib'],
    ['multifd-zstd', 'zstd'],
  ] as const)('%s: multifd channels with %s compression', (compression, method) => {
    const t = tuning({ compression, threads: 4 });
    expect(usesMultifd(t)).toBe(true);
    expect(planMigrationTuning(t)).toEqual({
      capabilities: { xbzrle: false, multifd: true, 'zero-blocks': false },
      parameters: { 'multifd-channels': 4, 'multifd-compression': method },
    });
  });
});

describe('checkMigrationTuning', () => {
  it('accepts the defaults and names the flag of each bad value', () => {
    expect(checkMigrationTuning(DEFAULT_MIGRATION_TUNING)).toEqual([]);
    expect(
      checkMigrationTuning(
        tuning({ compression: 'lz4' as never, threads: 0, xbzrleCacheBytes: 100, downtimeLimitMs: 0 }),
      ),
    ).toEqual([
      expect.stringContaining('-migration-compression must be one of none, compress, multifd'),
      expect.stringContaining('-migration-threads must be an integer in [1, 255]'),
      expect.stringContaining('-migration-xbzrle-cache-size must be at least 4Ki'),
      expect.stringContaining(
        '-migration-downtime-limit must be an integer number of ms in [1, 2000000], not 0',
      ),
    ]);
    expect(checkMigrationTuning(tuning({ downtimeLimitMs: 2_000_001 }))).toEqual([
      expect.stringContaining('-migration-downtime-limit'),
    ]);
    expect(checkMigrationTuning(tuning({ downtimeLimitMs: 2.5 }))).toEqual([
      expect.stringContaining('-migration-downtime-limit'),
    ]);
  });
});

describe('planSourceMigration / planTargetMigration (golden: what the runner and the raw bench set)', () => {
  const request = { autoConverge: true, allowPostCopy: false, maxBandwidthBytes: 1024 ** 3 };

  it('source: return-path always, the request choices, one bandwidth for both phases, the downtime limit', () => {
    expect(planSourceMigration(tuning({ xbzrle: true, downtimeLimitMs: 75 }), request)).toEqual({
      capabilities: {
        'return-path': true,
        'auto-converge': true,
        'postcopy-ram': false,
        xbzrle: true,
        multifd: false,
        'zero-blocks': false,
      },
      parameters: {
        'max-bandwidth': 1073741824,
        'max-postcopy-bandwidth': 1073741824,
        'downtime-limit': 75,
        'xbzrle-cache-size': 268435456,
      },
    });
    expect(
      planSourceMigration(DEFAULT_MIGRATION_TUNING, { ...request, autoConverge: false, allowPostCopy: true })
        .capabilities,
    ).toMatchObject({ 'auto-converge': false, 'postcopy-ram': true });
  });

  it('target: the shared tuning and return-path, no source-only parameter; post-copy tried unless multifd', () => {
    expect(planTargetMigration(tuning({ compression: 'compress', downtimeLimitMs: 75 }))).toEqual({
      capabilities: {
        'return-path': true,
        xbzrle: false,
        compress: true,
        multifd: false,
        'zero-blocks': false,
      },
      parameters: { 'compress-threads': 2, 'decompress-threads': 2 },
      tryPostCopy: true,
    });
    expect(planTargetMigration(tuning({ compression: 'multifd' })).tryPostCopy).toBe(false);
  });
});

describe('migrationTuningProblem', () => {
  const compress = { ...DEFAULT_MIGRATION_TUNING, compression: 'compress' as const };
  it('refuses compress on QEMU >= 9.1, naming the flag, the version and the choices left', () => {
    expect(migrationTuningProblem(compress, { major: 10, minor: 0 })).toBe(
      '-migration-compression=compress needs QEMU before 9.1, which removed the compress capability; this QEMU is 10.0: use one of none, multifd, multifd-zlib, multifd-zstd',
    );
    expect(migrationTuningProblem(compress, { major: 9, minor: 1 })).toMatch(/this QEMU is 9\.1/);
  });
  it('accepts compress before 9.1 and when the version is unknown (the shipped 7.2), and every other mode anywhere', () => {
    expect(migrationTuningProblem(compress, { major: 9, minor: 0 })).toBeUndefined();
    expect(migrationTuningProblem(compress, { major: 7, minor: 2 })).toBeUndefined();
    expect(migrationTuningProblem(compress)).toBeUndefined();
    for (const compression of ['none', 'multifd', 'multifd-zlib', 'multifd-zstd'] as const)
      expect(
        migrationTuningProblem({ ...DEFAULT_MIGRATION_TUNING, compression }, { major: 10, minor: 0 }),
      ).toBeUndefined();
  });
});
