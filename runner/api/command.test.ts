import { decodeGzipBase64 } from '../../crds';
import { runnerArgs } from './command';
import { parseRunnerFlags } from '../config/flags';

describe('runnerArgs', () => {
  it('produces flags the runner parses back to the same spec and status', () => {
    const spec = { guest: { rootDisk: { image: 'img' }, cpus: { min: 1, max: 2, use: 1 } } };
    const args = runnerArgs({
      spec,
      status: { cpus: 2 },
      cpuScalingMode: 'QmpScaling',
      memhpAutoMovableRatio: '401',
      kernelPath: '/vm/images/vmlinuz',
      tokenFile: '/vm/secrets/runner-token',
    });
    const flags = parseRunnerFlags(args);
    expect(decodeGzipBase64(flags.vmspec)).toEqual(spec);
    expect(decodeGzipBase64(flags.vmstatus)).toEqual({ cpus: 2 });
    expect(flags).toMatchObject({
      cpuScalingMode: 'QmpScaling',
      memhpAutoMovableRatio: '401',
      kernelpath: '/vm/images/vmlinuz',
      apiTokenFile: '/vm/secrets/runner-token',
    });
  });
});
