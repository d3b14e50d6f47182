import { encodeGzipBase64, type VirtualMachineSpec, type VirtualMachineStatus } from '../../crds';
import { parseRunnerFlags } from '../config/flags';
import { resolveRunnerConfig, type RunnerConfig } from '../config/runner-config';
import { planRunner, SETPRIV, type InspectedHost } from './runner-plan';

const spec = {
  guest: {
    rootDisk: { image: 'img' },
    cpus: { min: 1, max: 4, use: 1 },
    memorySlots: { min: 1, max: 2, use: 1 },
    ports: [{ port: 5432 }],
  },
};

function config(
  o: {
    spec?: Partial<VirtualMachineSpec> | Record<string, unknown>;
    status?: VirtualMachineStatus;
    flags?: string[];
    env?: Record<string, string>;
  } = {},
): RunnerConfig {
  const flags = parseRunnerFlags([
    `-vmspec=${encodeGzipBase64({ ...spec, ...o.spec })}`,
    ...(o.status ? [`-vmstatus=${encodeGzipBase64(o.status)}`] : []),
    '-memhp-auto-movable-ratio=301',
    ...(o.flags ?? []),
  ]);
  return resolveRunnerConfig(flags, { K8S_POD_NAME: 'vm1-abcde', NEONVM_POD_ROOT: '/pods/p', ...o.env });
}

const files = {
  kernel: '/pods/p/vm/kernel/vmlinuz',
  initrd: '/pods/p/vm/kernel/initramfs.cpio.gz',
  root: { path: '/pods/p/vm/images/rootdisk.qcow2', mode: 'in-place' as const, virtualSizeBytes: 1n << 30n },
};
const userHost: InspectedHost = {
  arch: 'amd64',
  files,
  accel: { accel: 'tcg', reason: 'test' },
  network: { mode: 'user', reason: 'test', agentHostPort: 41001, sshHostPort: 41002 },
  agentToken: 'agent-token-1',
  setpriv: true,
};
const tapHost = (overlayPresent?: boolean, vhostNet = false): InspectedHost => ({
  ...userHost,
  network: {
    mode: 'tap',
    reason: 'test',
    uplink: 'eth0',
    dnsServer: '10.96.0.10',
    searchDomains: ['svc.cluster.local'],
    overlayInterface: overlayPresent === undefined ? undefined : { name: 'net1', present: overlayPresent },
    vhostNet: vhostNet
      ? { usable: true, reason: '/dev/vhost-net opens' }
      : { usable: false, reason: 'no /dev/vhost-net' },
  },
});

describe('planRunner', () => {
  it('user mode: the guest agent and sshd on the inspected loopback ports, QEMU under setpriv', () => {
    const plan = planRunner(config({ env: { POD_IP: '10.0.0.7' } }), userHost);
    expect(plan.network).toMatchObject({
      mode: 'user',
      forwards: [
        { hostAddr: '127.0.0.1', hostPort: 41001 },
        { hostAddr: '127.0.0.1', hostPort: 41002, guestPort: 22 },
        { hostAddr: '10.0.0.7', hostPort: 5432, guestPort: 5432 },
      ],
    });
    expect(plan.guest).toEqual({
      agentUrl: 'http://127.0.0.1:41001',
      agentToken: 'agent-token-1',
      ssh: { host: '127.0.0.1', port: 41002 },
    });
    expect(plan.qemu.argv.slice(0, 5)).toEqual([SETPRIV, '--pdeathsig', 'KILL', '--', 'qemu-system-x86_64']);
    expect(plan.qemu.argv.slice(5)).toEqual(plan.qemu.args);
    expect(plan.qemu.args).toContain('/pods/p/vm/kernel/vmlinuz');
    expect(plan.apiUrl).toBe('http://10.0.0.7:25183');
    expect(plan.cgroup).toEqual({ initialMilliCpu: 1000 });
    // The guest port still answers at the pod IP, through slirp: reported, not silent.
    expect(plan.degraded).toEqual([
      'spec.guest.ports 5432/tcp forwarded by QEMU user-mode networking (the guest sees every client as 169.254.254.253): tap networking unavailable (test)',
    ]);
  });

  it('user mode without guest ports or extraNetwork degrades nothing', () => {
    const plan = planRunner(config({ spec: { guest: { ...spec.guest, ports: [] } } }), userHost);
    expect(plan.degraded).toEqual([]);
  });

  it("passes lpj= under TCG when the guest kernel's HZ and the host clock are known", () => {
    const cmdline = (host: InspectedHost) => {
      const args = planRunner(config(), host).qemu.args;
      return args[args.indexOf('-append') + 1];
    };
    const delayLoop = { kernelHz: 250, hostCpuMhz: 2596.701 };
    expect(cmdline({ ...userHost, delayLoop })).toContain(' lpj=10386804 ');
    expect(cmdline({ ...userHost, delayLoop, accel: { accel: 'kvm', reason: 'test' } })).not.toContain(
      'lpj=',
    );
    expect(cmdline(userHost)).not.toContain('lpj=');
  });

  it('without setpriv QEMU is the command itself; an any-address pod IP is reached on loopback', () => {
    const plan = planRunner(config(), { ...userHost, setpriv: false });
    expect(plan.qemu.argv[0]).toBe('qemu-system-x86_64');
    expect(plan.apiUrl).toBe('http://127.0.0.1:25183');
  });

  it('tap mode: bridge and dnsmasq with the inspected uplink and DNS, the guest at its upstream address', () => {
    const plan = planRunner(config(), tapHost());
    expect(plan.network.mode).toBe('tap');
    if (plan.network.mode !== 'tap') return;
    expect(plan.network.commands).toContainEqual([
      'iptables',
      '-t',
      'nat',
      '-A',
      'POSTROUTING',
      '-o',
      'eth0',
      '-j',
      'MASQUERADE',
    ]);
    expect(plan.network.dnsmasq).toContain('--dhcp-option=option:dns-server,10.96.0.10');
    expect(plan.guest).toEqual({
      agentUrl: 'http://169.254.254.254:25183',
      agentToken: 'agent-token-1',
      ssh: { host: '169.254.254.254', port: 22 },
    });
    expect(plan.overlay).toBeUndefined();
    expect(plan.degraded).toEqual([]);
  });

  it('tap mode: a queue pair per possible vCPU (at most 4); vhost-net only where the pod can open it', () => {
    const nic = (p: ReturnType<typeof planRunner>) => p.qemu.args[p.qemu.args.indexOf('-netdev') + 1];
    // spec: cpus.max 4
    const withVhost = planRunner(config(), tapHost(undefined, true));
    expect(withVhost.network).toMatchObject({ backing: { queues: 4, vhost: true } });
    expect(nic(withVhost)).toBe('tap,id=default,ifname=tap-def,queues=4,script=no,downscript=no,vhost=on');
    const without = planRunner(config(), tapHost(undefined, false));
    expect(without.network).toMatchObject({ backing: { queues: 4, vhost: false } });
    expect(nic(without)).toBe('tap,id=default,ifname=tap-def,queues=4,script=no,downscript=no');
    const small = planRunner(
      config({ spec: { guest: { ...spec.guest, cpus: { min: 1, max: 2, use: 1 } } } }),
      tapHost(),
    );
    expect(small.network).toMatchObject({ backing: { queues: 2 } });
    const big = planRunner(
      config({ spec: { guest: { ...spec.guest, cpus: { min: 1, max: 16, use: 1 } } } }),
      tapHost(),
    );
    expect(big.network).toMatchObject({ backing: { queues: 4 } });
  });

  it('attaches spec.extraNetwork only in tap mode with the pod interface present, else says why', () => {
    const extra = { spec: { extraNetwork: { enable: true } } };
    const attached = planRunner(config(extra), tapHost(true));
    expect(attached.overlay?.podInterface).toBe('net1');
    expect(attached.qemu.args).toContain(
      'tap,id=overlay,ifname=tap-overlay,queues=4,script=no,downscript=no',
    );
    expect(attached.overlay?.backing).toEqual({ queues: 4, vhost: false });
    expect(attached.overlay?.mac).not.toBe(attached.network.mac);
    expect(attached.degraded).toEqual([]);

    const noInterface = planRunner(config(extra), tapHost(false));
    expect(noInterface.overlay).toBeUndefined();
    expect(noInterface.degraded).toEqual([expect.stringContaining('the pod has no interface net1')]);

    const user = planRunner(config(extra), userHost);
    expect(user.overlay).toBeUndefined();
    expect(user.degraded).toEqual([
      expect.stringContaining('spec.guest.ports 5432/tcp forwarded by QEMU user-mode networking'),
      'spec.extraNetwork not attached: it needs tap networking (test)',
    ]);
  });

  it('a migration target waits for the stream and keeps the source CPUs and NIC', () => {
    const status = { cpus: '1500m', podName: 'vm1-zzzzz' } as VirtualMachineStatus;
    const target = planRunner(
      config({ status, env: { RECEIVE_MIGRATION: 'true', K8S_POD_NAME: 'vm1-yyyyy' } }),
      userHost,
    );
    expect(target.qemu.args.join(' ')).toContain('-incoming defer');
    expect(target.cgroup).toEqual({ initialMilliCpu: 1500 });
    const source = planRunner(config({ env: { K8S_POD_NAME: 'vm1-zzzzz' } }), userHost);
    expect(source.qemu.args.join(' ')).not.toContain('-incoming');
    expect(target.network.mac).toBe(source.network.mac);
  });

  it('plans no cgroup with -skip-cgroup-management', () => {
    expect(planRunner(config({ flags: ['-skip-cgroup-management'] }), userHost).cgroup).toBeUndefined();
  });
});
