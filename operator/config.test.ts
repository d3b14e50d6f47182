import { admissionPolicyArgs, type AdmissionPolicy } from '../crds';
import { parseDuration, parseOperatorConfig } from './config';

describe('parseOperatorConfig', () => {
  it('encrypts migrations unless --migration-tls=false', () => {
    expect(parseOperatorConfig([], { VM_RUNNER_IMAGE: 'r' }).runnerPod.migrationTls).toBe(true);
    expect(
      parseOperatorConfig(['--migration-tls=false'], { VM_RUNNER_IMAGE: 'r' }).runnerPod.migrationTls,
    ).toBe(false);
    expect(() => parseOperatorConfig(['--migration-tls=maybe'], { VM_RUNNER_IMAGE: 'r' })).toThrow();
  });

  it('passes the --migration-* tuning flags to runner pods (none given: the runner defaults)', () => {
    expect(parseOperatorConfig([], { VM_RUNNER_IMAGE: 'r' }).runnerPod.migrationTuning).toBeUndefined();
    const upstream = parseOperatorConfig(
      [
        '--migration-xbzrle=true',
        '--migration-xbzrle-cache-size=256Mi',
        '--migration-compression=compress',
        '--migration-threads=4',
        '--migration-zero-blocks=true',
        '--migration-downtime-limit=50',
      ],
      { VM_RUNNER_IMAGE: 'r' },
    );
    expect(upstream.runnerPod.migrationTuning).toEqual({
      xbzrle: true,
      xbzrleCacheSize: '256Mi',
      compression: 'compress',
      threads: 4,
      zeroBlocks: true,
      downtimeLimitMs: 50,
    });
    expect(
      parseOperatorConfig(['--migration-compression=multifd-zstd'], { VM_RUNNER_IMAGE: 'r' }).runnerPod
        .migrationTuning,
    ).toEqual({ compression: 'multifd-zstd' });
  });

  it.each([
    ['--migration-compression=lz4', /--migration-compression.*Allowed choices are none, compress, multifd/],
    ['--migration-threads=0', /--migration-threads.*positive integer/],
    ['--migration-threads=256', /--migration-threads.*at most 255/],
    ['--migration-xbzrle-cache-size=1Ki', /--migration-xbzrle-cache-size.*at least 4Ki/],
    ['--migration-xbzrle-cache-size=lots', /--migration-xbzrle-cache-size/],
    ['--migration-xbzrle=yes', /--migration-xbzrle/],
    ['--migration-downtime-limit=0', /--migration-downtime-limit.*positive integer/],
    ['--migration-downtime-limit=2000001', /--migration-downtime-limit.*at most 2000000/],
  ])('refuses %s naming the flag and the rule', (flag, message) => {
    expect(() => parseOperatorConfig([flag], { VM_RUNNER_IMAGE: 'r' })).toThrow(message);
  });

  it('refuses privileged VM fields unless flags allow them', () => {
    expect(parseOperatorConfig([], { VM_RUNNER_IMAGE: 'r' }).admission).toEqual({
      extraInitContainers: 'forbidden',
      initScript: false,
      podResourceClaims: false,
    });
  });

  it('reads back the admission policy the install bundle renders as flags', () => {
    const policy: AdmissionPolicy = {
      runnerImages: ['registry.example.com/neonvm/*', '*@sha256:abcd'],
      kernelImages: ['k/*'],
      extraInitContainers: 'unprivileged',
      initScript: true,
      podResources: ['hugepages-*'],
      podResourceClaims: true,
      multusNetworks: ['shared/overlay'],
      certificateIssuers: [],
    };
    const c = parseOperatorConfig(admissionPolicyArgs(policy), { VM_RUNNER_IMAGE: 'r' });
    expect(c.admission).toEqual(policy);
  });

  it('applies upstream defaults and reads the environment', () => {
    const c = parseOperatorConfig([], {
      VM_RUNNER_IMAGE: 'runner:v1',
      POD_NAMESPACE: 'ns',
      POD_NAME: 'op-0',
      NAD_IPAM_NAME: 'ipam',
      NAD_IPAM_NAMESPACE: 'ns',
      NAD_RUNNER_NAME: 'overlay',
      NAD_RUNNER_NAMESPACE: 'ns',
    });
    expect(c).toMatchObject({
      namespace: 'ns',
      identity: 'op-0',
      metricsBind: { host: '0.0.0.0', port: 8080 },
      probeBind: { host: '0.0.0.0', port: 8081 },
      leaderElect: false,
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      concurrency: 1,
      ipamNad: { namespace: 'ns', name: 'ipam' },
      runnerPod: {
        runnerImage: 'runner:v1',
        defaultCpuScalingMode: 'QmpScaling',
        defaultMultusNetwork: 'ns/overlay',
        devicePluginResources: true,
      },
    });
    expect(c.webhook?.port).toBe(9443);
  });

  it('takes the webhook wiring of the install manifest from the environment; flags win', () => {
    const env = {
      VM_RUNNER_IMAGE: 'r',
      WEBHOOK_CERT_SECRET: 'webhook-server-cert',
      WEBHOOK_SERVICE_NAME: 'svc',
    };
    expect(parseOperatorConfig([], env).webhook).toMatchObject({
      secretName: 'webhook-server-cert',
      serviceName: 'svc',
      certDir: undefined,
    });
    expect(
      parseOperatorConfig(['--webhook-secret-name=mine'], { ...env, WEBHOOK_CERT_MODE: 'cert-manager' })
        .webhook,
    ).toMatchObject({ secretName: 'mine', certDir: '/tmp/k8s-webhook-server/serving-certs' });
    expect(
      parseOperatorConfig(['--webhook-cert-mode=cert-manager', '--webhook-cert-dir=/certs'], env).webhook
        ?.certDir,
    ).toBe('/certs');
    expect(() => parseOperatorConfig([], { ...env, WEBHOOK_CERT_MODE: 'vault' })).toThrow(
      /WEBHOOK_CERT_MODE: 'vault' is not one of self-managed, cert-manager/,
    );
  });

  it('parses flags', () => {
    const c = parseOperatorConfig(
      [
        '--runner-image',
        'r',
        '--leader-elect',
        '--leader-election-lease-duration',
        '1m',
        '--concurrency-limit',
        '8',
        '--webhook-port',
        '-1',
        '--metrics-bind-address',
        '0',
        '--no-device-plugin-resources',
        '--default-cpu-scaling-mode',
        'SysfsScaling',
        '--skip-update-validation-for',
        'a,b/c',
      ],
      {},
    );
    expect(c).toMatchObject({
      leaderElect: true,
      leaseDurationMs: 60_000,
      concurrency: 8,
      webhook: undefined,
      metricsBind: undefined,
    });
    expect(c.runnerPod).toMatchObject({
      devicePluginResources: false,
      defaultCpuScalingMode: 'SysfsScaling',
    });
    const w = parseOperatorConfig(
      ['--runner-image', 'r', '--skip-update-validation-for', 'a,b/c'],
      {},
    ).webhook;
    expect([...(w?.skipUpdateValidationFor ?? [])]).toEqual(['default/a', 'b/c']);
  });

  it('requires a runner image and rejects bad values', () => {
    expect(() => parseOperatorConfig([], {})).toThrow('runner image is required');
    expect(() =>
      parseOperatorConfig(['--runner-image', 'r', '--default-cpu-scaling-mode', 'Magic'], {}),
    ).toThrow();
    expect(() => parseDuration('soon')).toThrow('not a duration');
    expect(parseDuration('500ms')).toBe(500);
  });

  it('takes upstream failure-tracking and client QPS/burst flags; debug endpoints default to loopback', () => {
    const defaults = parseOperatorConfig(['--runner-image', 'r'], {});
    expect(defaults).toMatchObject({
      failurePendingPeriodMs: 60_000,
      failingRefreshIntervalMs: 60_000,
      forceRetryNotRetried: false,
      requestLimit: { qps: 1000, burst: 2000 },
      pprofBind: { host: '127.0.0.1', port: 7777 },
      dumpStateBind: { host: '127.0.0.1', port: 7778 },
    });
    const c = parseOperatorConfig(
      [
        '--runner-image=r',
        '--failure-pending-period=2m',
        '--failing-refresh-interval=15s',
        '--force-retry-not-retried',
        '--k8s-client-qps=50.5',
        '--k8s-client-burst=100',
        '--pprof-bind-address=0',
        '--dump-state-bind-address=localhost:9999',
      ],
      {},
    );
    expect(c).toMatchObject({
      failurePendingPeriodMs: 120_000,
      failingRefreshIntervalMs: 15_000,
      forceRetryNotRetried: true,
      requestLimit: { qps: 50.5, burst: 100 },
      pprofBind: undefined,
      dumpStateBind: { host: 'localhost', port: 9999 },
    });
  });

  it('refuses debug endpoints off loopback and bad QPS/burst, naming the flag', () => {
    expect(() => parseOperatorConfig(['--runner-image=r', '--pprof-bind-address=:7777'], {})).toThrow(
      /--pprof-bind-address: ':7777' is not a loopback address/,
    );
    expect(() =>
      parseOperatorConfig(['--runner-image=r', '--dump-state-bind-address=0.0.0.0:7778'], {}),
    ).toThrow(/--dump-state-bind-address: '0.0.0.0:7778' is not a loopback address/);
    expect(() => parseOperatorConfig(['--runner-image=r', '--k8s-client-qps=0'], {})).toThrow(
      /--k8s-client-qps.*must be a number > 0/,
    );
    expect(() => parseOperatorConfig(['--runner-image=r', '--k8s-client-burst=1.5'], {})).toThrow(
      /--k8s-client-burst.*must be a positive integer/,
    );
  });
});
