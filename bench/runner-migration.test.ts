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

describe('runner-migration bench: idle cases and rounds from the environment', () => {
  it('picks idle cases by index and takes the rounds', () => {
    expect(
      partFromEnv({
        NEONVM_BENCH_MIGRATION_IDLE_CASES: '0,11',
        NEONVM_BENCH_MIGRATION_IDLE_ROUNDS: '3',
        NEONVM_BENCH_MIGRATION_BUSY_ROUNDS: '2',
      }),
    ).toEqual({ idleCases: [CASES[0], CASES[11]], idleRounds: 3, busyRounds: 2 });
  });
  it('refuses rounds that are not a positive integer, naming the variable', () => {
    expect(() => partFromEnv({ NEONVM_BENCH_MIGRATION_IDLE_ROUNDS: '0' })).toThrow(
      'NEONVM_BENCH_MIGRATION_IDLE_ROUNDS must be a positive integer, not "0"',
    );
  });
});
