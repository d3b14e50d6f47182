import { keepStoredSetOnceFields } from './field-policy';

describe('keepStoredSetOnceFields', () => {
  const stored = {
    spec: { cpuScalingMode: 'QmpScaling', targetArchitecture: 'arm64', guest: { cpus: { use: 2 } } },
  };

  it('copies set-once fields the update omits from the stored object', () => {
    const next = { spec: { guest: { cpus: { use: 1 } } } };
    expect(keepStoredSetOnceFields(stored, next)).toEqual({
      spec: { cpuScalingMode: 'QmpScaling', targetArchitecture: 'arm64', guest: { cpus: { use: 1 } } },
    });
    expect(next).toEqual({ spec: { guest: { cpus: { use: 1 } } } }); // not modified in place
  });

  it('keeps an explicit value (validation judges it) and copies nothing the stored object lacks', () => {
    expect(keepStoredSetOnceFields(stored, { spec: { cpuScalingMode: 'SysfsScaling' } }).spec).toEqual({
      cpuScalingMode: 'SysfsScaling',
      targetArchitecture: 'arm64',
    });
    expect(keepStoredSetOnceFields({ spec: {} }, { spec: { guest: {} } })).toEqual({ spec: { guest: {} } });
    expect(keepStoredSetOnceFields(undefined, { spec: {} })).toEqual({ spec: {} });
  });

  it('only touches set-once fields: an omitted mutable or immutable field stays omitted', () => {
    const out = keepStoredSetOnceFields({ spec: { restartPolicy: 'Never', enableSSH: false } }, { spec: {} });
    expect(out).toEqual({ spec: {} });
  });
});
