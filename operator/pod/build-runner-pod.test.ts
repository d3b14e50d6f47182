import { decodeGzipBase64, type VirtualMachineSpec } from '../../crds';
import { vmFixture, withPhase, withSpec } from '../testing/fixtures';
import { buildRunnerPod, INIT_SCRIPT, migrationPorts } from './build-runner-pod';
import { platformRequirements, runnerPodAffinity } from './node-affinity';
import { DEFAULT_RUNNER_POD_CONFIG, type RunnerPodConfig } from './runner-pod-config';

const config: RunnerPodConfig = {
  ...DEFAULT_RUNNER_POD_CONFIG,
  runnerImage: 'runner:v1',
  defaultMultusNetwork: 'neonvm-system/neonvm-overlay-for-vms',
};

describe('buildRunnerPod', () => {
  const vm = vmFixture(
    withPhase('Pending', { podName: 'vm1-abcde', sshSecretName: 'ssh-neonvm-vm1' }),
    withSpec({ targetArchitecture: 'amd64', extraNetwork: { enable: true, interface: 'net1' } }),
    (v) => {
      v.metadata!.labels = { team: 'a' };
      v.metadata!.annotations = { note: 'x', 'kubectl.kubernetes.io/last-applied-configuration': '{}' };
      v.spec.guest.kernelImage = 'kernel:v1';
      v.spec.guest.appendKernelCmdline = 'quiet';
      v.spec.guest.cpus = { min: 1, max: 2, use: '1500m' };
      v.spec.guest.memorySlots = { min: 1, max: 32, use: 2 };
      v.spec.guest.ports = [{ name: 'pg', port: 5432, protocol: 'TCP' }];
      v.spec.disks = [
        { name: 'cache', mountPath: '/cache', emptyDisk: { size: '2Gi' } },
        { name: 'cfg', mountPath: '/etc/cfg', readOnly: true, configMap: { name: 'cm' } },
        { name: 'tmp', mountPath: '/tmp', tmpfs: { size: '1Gi' } },
      ];
    },
  );
  const pod = buildRunnerPod(
    { vm, podName: 'vm1-abcde', tokenSecretName: 'runner-token-neonvm-vm1' },
    config,
  );
  const runner = pod.spec!.containers[0];

  it('carries the contract labels and annotations (usage/resources JSON, multus, no last-applied)', () => {
    expect(pod.metadata?.labels).toEqual({
      team: 'a',
      'app.kubernetes.io/name': 'NeonVM',
      'vm.neon.tech/name': 'vm1',
    });
    const a = pod.metadata!.annotations!;
    expect(a['kubectl.kubernetes.io/last-applied-configuration']).toBeUndefined();
    expect(a['vm.neon.tech/usage']).toBe('{"cpu":"1500m","memory":"2Gi"}');
    expect(a['vm.neon.tech/resources']).toBe(
      '{"cpus":{"min":1,"max":2,"use":"1500m"},"memorySlots":{"min":1,"max":32,"use":2},"memorySlotSize":"1Gi"}',
    );
    expect(a['k8s.v1.cni.cncf.io/networks']).toBe('neonvm-system/neonvm-overlay-for-vms@net1');
    expect(a['kubectl.kubernetes.io/default-container']).toBe('neonvm-runner');
    expect(pod.metadata?.ownerReferences).toEqual([
      {
        apiVersion: 'vm.neon.tech/v1',
        kind: 'VirtualMachine',
        name: 'vm1',
        uid: 'uid-vm1',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
  });

  it('runs `runner` with upstream flags and gzip64 spec/status', () => {
    expect(runner.name).toBe('neonvm-runner');
    expect(runner.image).toBe('runner:v1');
    const cmd = runner.command!;
    expect(cmd.slice(0, 5)).toEqual([
      'runner',
      '-qemu-disk-cache-settings',
      'cache=none',
      '-memhp-auto-movable-ratio',
      '301',
    ]);
    expect(cmd[cmd.indexOf('-cpu-scaling-mode') + 1]).toBe('QmpScaling');
    const spec = decodeGzipBase64<VirtualMachineSpec>(cmd[cmd.indexOf('-vmspec') + 1]);
    expect(spec.guest.cpus).toEqual({ min: 1, max: 2, use: '1500m' });
    expect(decodeGzipBase64(cmd[cmd.indexOf('-vmstatus') + 1])).toMatchObject({ podName: 'vm1-abcde' });
    expect(runner.args).toEqual(['-kernelpath=/vm/images/vmlinuz', '-appendKernelCmdline=quiet']);
    expect(runner.readinessProbe).toEqual({
      httpGet: { path: '/ready', port: 25183 },
      initialDelaySeconds: 5,
      periodSeconds: 5,
      failureThreshold: 3,
    });
    expect(runner.ports?.map((p) => p.name ?? p.containerPort)).toEqual([
      'qmp',
      'qmp-manual',
      'runner',
      'migration',
      'migration-nbd',
      'pg',
    ]);
    // The disks' NBD port is derived from the migration port (crds' migrationDiskPort).
    expect(runner.ports?.filter((p) => p.name?.startsWith('migration'))).toEqual([
      { name: 'migration', containerPort: 20187, protocol: 'TCP' },
      { name: 'migration-nbd', containerPort: 20188, protocol: 'TCP' },
    ]);
    expect(runner.resources?.limits).toEqual({ 'neonvm/vhost-net': '1', 'neonvm/kvm': '1' });
  });

  it('leaves a migration port unnamed when a guest port has its name (names are unique in a pod)', () => {
    expect(migrationPorts([{ name: 'migration' }])).toEqual([
      { containerPort: 20187, protocol: 'TCP' },
      { name: 'migration-nbd', containerPort: 20188, protocol: 'TCP' },
    ]);
  });

  it('passes the operator-wide migration tuning to every runner (no flags when unset)', () => {
    expect(runner.command!.filter((a) => a.startsWith('-migration-'))).toEqual([]);
    const tuned = buildRunnerPod(
      { vm, podName: 'vm1-abcde', tokenSecretName: 'runner-token-neonvm-vm1' },
      {
        ...config,
        migrationTuning: { xbzrle: true, compression: 'compress', threads: 4, downtimeLimitMs: 50 },
      },
    ).spec!.containers[0];
    expect(tuned.command!.filter((a) => a.startsWith('-migration-'))).toEqual([
      '-migration-xbzrle=true',
      '-migration-compression=compress',
      '-migration-threads=4',
      '-migration-downtime-limit=50',
    ]);
  });

  it('passes the pod name by fieldRef and the API token as a mounted Secret file, never a literal', () => {
    expect(runner.env).toEqual([
      { name: 'K8S_POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'NEONVM_RUNNER_TOKEN_FILE', value: '/vm/secrets/runner-token' },
    ]);
    expect(pod.spec!.volumes).toContainEqual({
      name: 'runner-token',
      secret: {
        secretName: 'runner-token-neonvm-vm1',
        items: [{ key: 'token', path: 'runner-token', mode: 0o400 }],
      },
    });
    expect(runner.volumeMounts).toContainEqual({
      name: 'runner-token',
      mountPath: '/vm/secrets',
      readOnly: true,
    });
  });

  it('has init containers init, init-sysctl and init-kernel, volumes per disk, SSH mounts, 30 s node-failure tolerations', () => {
    expect(pod.spec!.initContainers!.map((c) => c.name)).toEqual(['init', 'init-sysctl', 'init-kernel']);
    expect(pod.spec!.initContainers![0].command).toEqual(['sh', '-c', INIT_SCRIPT]);
    expect(pod.spec!.restartPolicy).toBe('Never');
    expect(pod.spec!.automountServiceAccountToken).toBe(false);
    expect(pod.spec!.volumes!.map((v) => v.name)).toEqual([
      'virtualmachineimages',
      'sysfscgroup',
      'runner-token',
      'ssh-privatekey',
      'ssh-publickey',
      'cache',
      'cfg',
    ]);
    expect(runner.volumeMounts).toContainEqual({
      name: 'cfg',
      mountPath: '/vm/mounts/etc/cfg',
      readOnly: true,
    });
    expect(pod.spec!.tolerations).toEqual([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 },
      {
        key: 'node.kubernetes.io/unreachable',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 30,
      },
    ]);
  });

  it('mounts the migration TLS credentials in QEMU layout, owner-only, and passes dir and name', () => {
    const withTls = buildRunnerPod(
      {
        vm,
        podName: 'vm1-abcde',
        tokenSecretName: 'runner-token-neonvm-vm1',
        migrationTlsSecretName: 'migration-tls-neonvm-vm1',
      },
      config,
    );
    const c = withTls.spec!.containers[0];
    expect(withTls.spec!.volumes).toContainEqual({
      name: 'migration-tls',
      secret: {
        secretName: 'migration-tls-neonvm-vm1',
        items: [
          { key: 'ca.crt', path: 'ca-cert.pem', mode: 0o400 },
          { key: 'tls.crt', path: 'server-cert.pem', mode: 0o400 },
          { key: 'tls.key', path: 'server-key.pem', mode: 0o400 },
          { key: 'tls.crt', path: 'client-cert.pem', mode: 0o400 },
          { key: 'tls.key', path: 'client-key.pem', mode: 0o400 },
        ],
      },
    });
    expect(c.volumeMounts).toContainEqual({
      name: 'migration-tls',
      mountPath: '/vm/migration-tls',
      readOnly: true,
    });
    expect(c.args).toEqual(
      expect.arrayContaining([
        '-migration-tls-dir=/vm/migration-tls',
        `-migration-tls-hostname=${vm.metadata!.uid}.migration.neonvm`,
      ]),
    );
    // Without a Secret (--migration-tls=false): no volume, no flags.
    expect(pod.spec!.volumes!.map((v) => v.name)).not.toContain('migration-tls');
    expect(runner.args?.some((a) => a.startsWith('-migration-tls'))).toBe(false);
  });

  it("never runs the user's images privileged: only the runner image's sysctl step is", () => {
    const [init, sysctl, kernel] = pod.spec!.initContainers!;
    for (const c of [init, kernel]) {
      expect(c.securityContext).toEqual({
        runAsUser: 36,
        runAsGroup: 34,
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
    }
    expect(init.image).toBe(vm.spec.guest.rootDisk.image);
    expect(INIT_SCRIPT).not.toMatch(/chown|sysctl|mv /);
    expect(sysctl).toMatchObject({
      image: 'runner:v1',
      securityContext: { privileged: true },
      command: ['sysctl', '-w', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.route_localnet=1'],
    });
    expect(sysctl.volumeMounts).toBeUndefined();
    const custom = structuredClone(vm);
    withSpec({ runnerImage: 'allowed/runner:2' })(custom);
    const own = buildRunnerPod({ vm: custom, podName: 'p', tokenSecretName: 't' }, config);
    expect(own.spec!.initContainers![1].image).toBe(own.spec!.containers[0].image);
  });

  it('matches the golden pod', () => {
    expect(pod).toMatchSnapshot();
  });

  it('builds migration targets with RECEIVE_MIGRATION, migration as controller, anti-affinity and node constraints', () => {
    const target = buildRunnerPod(
      {
        vm,
        podName: 'vm1-target',
        tokenSecretName: 't',
        migrationTarget: {
          migrationName: 'mig',
          migrationUid: 'uid-mig',
          preventMigrationToSameHost: true,
          nodeSelector: { pool: 'b' },
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1'] }] }],
        },
      },
      config,
    );
    expect(target.spec!.containers[0].env).toContainEqual({ name: 'RECEIVE_MIGRATION', value: 'true' });
    expect(target.metadata?.ownerReferences?.map((r) => [r.kind, r.controller])).toEqual([
      ['VirtualMachineMigration', true],
      ['VirtualMachine', false],
    ]);
    expect(target.spec!.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
      {
        labelSelector: { matchLabels: { 'vm.neon.tech/name': 'vm1' } },
        topologyKey: 'kubernetes.io/hostname',
      },
    ]);
    expect(target.spec!.nodeSelector).toEqual({ pool: 'b' });
    expect(
      target.spec!.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms,
    ).toEqual([
      {
        matchExpressions: [...platformRequirements('amd64'), { key: 'zone', operator: 'In', values: ['z1'] }],
      },
    ]);
  });
});

describe('runnerPodAffinity (upstream §8.2 cases, with the OR-term fix)', () => {
  const zone = { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] };
  const terms = (a: ReturnType<typeof runnerPodAffinity>) =>
    a.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;

  it('no user affinity + arch: one term [os, arch]', () => {
    expect(terms(runnerPodAffinity(undefined, 'amd64'))).toEqual([
      {
        matchExpressions: [
          { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] },
          { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
        ],
      },
    ]);
  });

  it('no arch: one term with only os', () => {
    expect(terms(runnerPodAffinity(undefined, undefined))).toEqual([
      { matchExpressions: [{ key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }] },
    ]);
  });

  it('user term + arch: the requirement is ANDed into the user term (upstream ORed a second term)', () => {
    const user = {
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [zone, zone] } },
    };
    const result = terms(runnerPodAffinity(user, 'arm64'));
    expect(result).toHaveLength(2);
    for (const t of result!)
      expect(t.matchExpressions).toEqual([...zone.matchExpressions, ...platformRequirements('arm64')]);
    expect(user.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]).toBe(zone);
    expect(zone.matchExpressions).toHaveLength(1);
  });
});
