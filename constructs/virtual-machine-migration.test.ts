import { Duration, Size, Testing } from 'cdk8s';
import { SyncWave, VirtualMachine, VirtualMachineMigration } from '.';

describe('VirtualMachineMigration', () => {
  test('targets a VM construct, inherits its namespace, snapshot', () => {
    const chart = Testing.chart();
    const vm = new VirtualMachine(chart, 'vm', {
      metadata: { name: 'example', namespace: 'db' },
      rootDisk: { image: 'i' },
    });
    new VirtualMachineMigration(chart, 'migration', {
      vm,
      metadata: { name: 'example' },
      syncWave: SyncWave.MIGRATIONS,
    });
    const out = Testing.synth(chart);
    expect(out).toMatchSnapshot();
    const m = out.find((o) => o.kind === 'VirtualMachineMigration');
    expect(m.metadata).toEqual({
      name: 'example',
      namespace: 'db',
      annotations: { 'argocd.argoproj.io/sync-wave': '1' },
    });
    expect(m.spec).toEqual({ vmName: 'example' });
  });

  test('readable options map to the spec in canonical form', () => {
    const chart = Testing.chart();
    new VirtualMachineMigration(chart, 'm', {
      vm: 'db-0',
      allowPostCopy: true,
      maxBandwidth: Size.mebibytes(1024),
      completionTimeout: Duration.minutes(10),
      nodeSelector: { zone: 'a' },
    });
    expect(Testing.synth(chart)[0].spec).toEqual({
      vmName: 'db-0',
      nodeSelector: { zone: 'a' },
      completionTimeout: 600,
      allowPostCopy: true,
      maxBandwidth: '1Gi',
    });
  });

  test.each([
    [{ vm: '' }, 'spec.vmName'],
    [{ vm: 'Bad_Name' }, 'spec.vmName'],
    [{ vm: 'x', maxBandwidth: '0' }, 'spec.maxBandwidth'],
    [{ vm: 'x', allowPostCopy: true, incremental: false }, 'spec.allowPostCopy'],
    [{ vm: 'x', completionTimeout: Duration.seconds(0) }, 'spec.completionTimeout'],
  ])('invalid %j is reported at synth with %s', (props, path) => {
    const chart = Testing.chart();
    new VirtualMachineMigration(chart, 'm', props);
    expect(() => Testing.synth(chart)).toThrow(`[test/m] ${path}:`);
  });
});
