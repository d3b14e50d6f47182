import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import { clusterAddressing } from '../network';
import { renderCniConfig } from './cni-config';
import { DISABLED_PLUGINS, hasSysResource, renderContainerdConfig } from './containerd-config';
import { tunablesToMask } from './kernel-tunables';
import { kubeletArgs, renderKubeletConfig } from './kubelet-config';
import { realNodeAddressing } from './node-addressing';
import { parseCgroupMounts } from './node-cgroups';
import { hostPathOf, NODE_STATE_PATHS, nodeLayout } from './node-layout';
import { bindMountScript } from './node-namespace';
import { sandboxHostVeths } from './real-node';

describe('realNodeAddressing', () => {
  it('puts node i of slot s on the bridge at 10.(244+s).i.1 with pods in the rest of that /24', () => {
    const a = realNodeAddressing(clusterAddressing(2), 4, 'neonvm-real-1');
    expect(a.address).toBe('10.246.4.1');
    expect(a.podCidr).toBe('10.246.4.0/24');
    expect(a.cni).toEqual({
      bridge: 'nvm2br',
      subnet: '10.246.0.0/16',
      gateway: '10.246.0.1',
      rangeStart: '10.246.4.2',
      rangeEnd: '10.246.4.254',
    });
    expect(a.cgroupRoot).toBe('/neonvm-s2-neonvm-real-1');
  });
});

describe('renderContainerdConfig', () => {
  const toml = parseToml(
    renderContainerdConfig({
      runc: '/cache/bin/runc',
      sandboxImage: 'neonvm.local/pause:3.10.2',
      snapshotter: 'overlayfs',
      restrictOomScoreAdj: true,
    }),
  ) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

  it('is a version 4 config with the CRI images and runtime plugins split as containerd 2 expects', () => {
    expect(toml.version).toBe(4);
    const images = toml.plugins['io.containerd.cri.v1.images'];
    expect(images).toEqual({
      snapshotter: 'overlayfs',
      pinned_images: { sandbox: 'neonvm.local/pause:3.10.2' },
    });
    const runtime = toml.plugins['io.containerd.cri.v1.runtime'];
    expect(runtime.containerd.runtimes.runc).toEqual({
      runtime_type: 'io.containerd.runc.v2',
      options: { BinaryName: '/cache/bin/runc', SystemdCgroup: false },
    });
    expect(runtime.cni).toMatchObject({ bin_dirs: ['/opt/cni/bin'], conf_dir: '/etc/cni/net.d' });
  });

  it('keeps every socket and state directory under the node paths and disables NRI', () => {
    expect(toml.plugins['io.containerd.server.v1.grpc'].address).toBe('/run/containerd/containerd.sock');
    expect(toml.root).toBe('/var/lib/containerd');
    expect(toml.state).toBe('/run/containerd');
    expect(toml.disabled_plugins).toEqual([...DISABLED_PLUGINS]);
    expect(toml.disabled_plugins).toContain('io.containerd.nri.v1.nri');
  });
});

describe('hasSysResource', () => {
  it('reads CAP_SYS_RESOURCE (bit 24) from CapEff', () => {
    expect(hasSysResource('CapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\n')).toBe(true);
    expect(hasSysResource('CapEff:\t000001fffeffffff\n')).toBe(false);
  });
});

describe('renderKubeletConfig', () => {
  const cfg = parseYaml(
    renderKubeletConfig({
      address: '10.244.4.1',
      cgroupRoot: '/neonvm-s0-x',
      podCidr: '10.244.4.0/24',
      clientCaFile: '/etc/kubernetes/pki/ca.crt',
      tlsCertFile: '/etc/kubernetes/pki/kubelet.crt',
      tlsKeyFile: '/etc/kubernetes/pki/kubelet.key',
      containerRuntimeEndpoint: 'unix:///run/containerd/containerd.sock',
    }),
  ) as Record<string, unknown>;

  it('accepts cgroup v1 with the cgroupfs driver and a cgroup root of its own', () => {
    expect(cfg).toMatchObject({
      kind: 'KubeletConfiguration',
      failCgroupV1: false,
      cgroupDriver: 'cgroupfs',
      cgroupRoot: '/neonvm-s0-x',
      failSwapOn: false,
      makeIPTablesUtilChains: false,
    });
  });

  it('listens on the node address only, with client certificates from the cluster CA', () => {
    expect(cfg).toMatchObject({
      address: '10.244.4.1',
      port: 10250,
      readOnlyPort: 0,
      healthzBindAddress: '10.244.4.1',
    });
    expect(cfg.authentication).toEqual({
      anonymous: { enabled: false },
      webhook: { enabled: true, cacheTTL: '2m0s' },
      x509: { clientCAFile: '/etc/kubernetes/pki/ca.crt' },
    });
    expect(cfg.authorization).toEqual({ mode: 'Webhook' });
  });

  it('names the node and its address on the command line', () => {
    expect(
      kubeletArgs({
        configFile: '/c',
        kubeconfigFile: '/k',
        nodeName: 'n1',
        nodeIp: '10.244.4.1',
        labels: { a: 'b' },
      }),
    ).toEqual([
      '--config=/c',
      '--kubeconfig=/k',
      '--hostname-override=n1',
      '--node-ip=10.244.4.1',
      '--node-labels=a=b',
    ]);
  });
});

describe('renderCniConfig', () => {
  it('attaches pods to the existing bridge without making it a gateway, host-local IPAM in the node range', () => {
    const conf = JSON.parse(
      renderCniConfig({ networkName: 'n', ...realNodeAddressing(clusterAddressing(0), 4, 'x').cni }),
    ) as { plugins: Record<string, any>[] }; // eslint-disable-line @typescript-eslint/no-explicit-any
    const [bridge, portmap] = conf.plugins;
    expect(bridge).toMatchObject({ type: 'bridge', bridge: 'nvm0br', isGateway: false, ipMasq: false });
    expect(bridge.ipam.ranges).toEqual([
      [
        {
          subnet: '10.244.0.0/16',
          rangeStart: '10.244.4.2',
          rangeEnd: '10.244.4.254',
          gateway: '10.244.0.1',
        },
      ],
    ]);
    expect(bridge.ipam.routes).toEqual([{ dst: '0.0.0.0/0', gw: '10.244.0.1' }]);
    expect(portmap.type).toBe('portmap');
  });
});

describe('kernel tunables', () => {
  it('masks only the values that differ from what the kubelet wants', () => {
    const host: Record<string, string> = { 'kernel/panic': '1\n', 'vm/overcommit_memory': '1\n' };
    const masks = tunablesToMask(
      (p) =>
        host[p] ??
        {
          'vm/panic_on_oom': '0',
          'kernel/panic_on_oops': '0',
          'kernel/keys/root_maxkeys': '1000000',
          'kernel/keys/root_maxbytes': '25000000',
        }[p]!,
    );
    expect(masks).toEqual([
      { path: 'kernel/panic', value: 10 },
      { path: 'kernel/panic_on_oops', value: 1 },
    ]);
  });
});

describe('node layout and namespace script', () => {
  it('bind-mounts every standard node path from the node directory, CNI plugins read-only', () => {
    const l = nodeLayout('/tmp/n', '/cache/bin/cni');
    expect(l.mounts).toHaveLength(NODE_STATE_PATHS.length + 1);
    expect(l.mounts).toContainEqual({ source: '/tmp/n/root/var/lib/kubelet', target: '/var/lib/kubelet' });
    expect(l.mounts).toContainEqual({ source: '/cache/bin/cni', target: '/opt/cni/bin', readOnly: true });
    expect(hostPathOf('/tmp/n', l.kubeletConfig)).toBe('/tmp/n/root/var/lib/kubelet/config.yaml');
  });

  it('quotes paths and remounts read-only binds', () => {
    const script = bindMountScript([{ source: "/a b/it's", target: '/t', readOnly: true }]);
    expect(script).toContain(`mount --bind '/a b/it'\\''s' /t\n`);
    expect(script).toContain(`mount -o remount,bind,ro /t\n`);
  });
});

describe('parseCgroupMounts', () => {
  it('lists v1 and v2 cgroup mount points and nothing else', () => {
    const mountinfo = [
      '30 1 0:26 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
      '31 30 0:27 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
      '40 30 0:35 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
    ].join('\n');
    expect(parseCgroupMounts(mountinfo)).toEqual(['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/unified']);
  });
});

describe('sandboxHostVeths', () => {
  it('takes the host-side veths from the CNI result containerd keeps', () => {
    const json = JSON.stringify({
      info: { cniResult: { Interfaces: { eth0: { Sandbox: '/x' }, nvm0br: {}, veth1a2b3c4d: {} } } },
    });
    expect(sandboxHostVeths(json)).toEqual(['veth1a2b3c4d']);
    expect(sandboxHostVeths('{}')).toEqual([]);
  });
});
