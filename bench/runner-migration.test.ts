import { CASES, partFromEnv } from './runner-migration';

describe('runner-migration bench parts (one machine-lock hold each)', () => {
  it('runs everything by default', () => {
    expect(partFromEnv({})).toEqual({});
  });
  it('idle: no busy case; busy: no idle case, optionally picked by index', () => {
    expect(partFromEnv({ NEONVM_BENCH_MIGRATION_PART: 'idle' })).toEqual({ cases: [] });
    expect(
      partFromEnv({ NEONVM_BENCH_MIGRATION_PART: 'busy', NEONVM_BENCH_MIGRATION_BUSY_CASES: '0,2' }),
    ).toEqual({ idleCases: [], cases: [CASES[0], CASES[2]] });
  });
  it('refuses an unknown part or case, naming the variable', () => {
    expect(() => partFromEnv({ NEONVM_BENCH_MIGRATION_PART: 'all' })).toThrow(
      'NEONVM_BENCH_MIGRATION_PART must be idle or busy, not "all"',
    );
    expect(() => partFromEnv({ NEONVM_BENCH_MIGRATION_BUSY_CASES: '99' })).toThrow(
      'NEONVM_BENCH_MIGRATION_BUSY_CASES: no case 99',
    );
  });
});
