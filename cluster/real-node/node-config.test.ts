import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import { clusterAddressing, ownedByCluster } from '../network';
import { renderCniConfig } from './cni-config';
import { DISABLED_PLUGINS, hasSysResource, renderContainerdConfig } from './containerd-config';
import { tunablesToMask } from './kernel-tunables';
import { kubeletArgs, renderKubeletConfig } from './kubelet-config';
import { renderKubeProxyConfig } from './kube-proxy-config';
import { realNodeAddressing } from './node-addressing';
import { parseCgroupMounts } from './node-cgroups';
import { hostPathOf, NODE_STATE_PATHS, nodeLayout } from './node-layout';
import { bindMountScript } from './node-namespace';
import { nodeNetworkCommands } from './node-network';
import { sandboxHostVeths } from './real-node';
import { missingFromBoundingSet, renderRuncWrapper } from './runc-bounded';

describe('realNodeAddressing', () => {
  it('routes node i of slot s at 10.(244+s).i.1, its pods on its own bridge in the rest of that /24', () => {
    const a = realNodeAddressing(clusterAddressing(2), 4, 'neonvm-real-1');
    expect(a).toMatchObject({
      address: '10.246.4.1',
      podCidr: '10.246.4.0/24',
      clusterCidr: '10.246.0.0/16',
      gateway: '10.246.0.1',
      prefixLength: 16,
      clusterBridge: 'nvm2br',
      netns: 'nvm2-rn4',
      hostVeth: 'nvm2hn4',
    });
    expect(a.cni).toEqual({
      bridge: 'cni0',
      subnet: '10.246.4.0/24',
      gateway: '10.246.4.1',
      rangeStart: '10.246.4.2',
      rangeEnd: '10.246.4.254',
    });
    expect(a.cgroupRoot).toBe('/neonvm-s2-neonvm-real-1');
  });

  it('names its namespace and uplink so that a later cluster in the slot cleans them up', () => {
    const c = clusterAddressing(3);
    const a = realNodeAddressing(c, 250, 'x');
    expect(ownedByCluster(c, a.netns)).toBe(true);
    expect(ownedByCluster(c, a.hostVeth)).toBe(true);
    expect(a.hostVeth.length).toBeLessThanOrEqual(15);
  });
});

describe('node network', () => {
  it('creates a named namespace with a veth uplink on the cluster bridge, routing and proxy ARP', () => {
    const cmds = nodeNetworkCommands(realNodeAddressing(clusterAddressing(0), 4, 'x'));
    expect(cmds).toEqual([
      'netns add nvm0-rn4',
      'link add nvm0hn4 type veth peer name eth0 netns nvm0-rn4',
      'link set nvm0hn4 master nvm0br up',
      'netns exec nvm0-rn4 ip addr add 10.244.4.1/16 dev eth0',
      'netns exec nvm0-rn4 ip link set lo up',
      'netns exec nvm0-rn4 ip link set eth0 up',
      'netns exec nvm0-rn4 ip route add default via 10.244.0.1 dev eth0',
      'netns exec nvm0-rn4 sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.conf.eth0.proxy_arp=1 net.ipv4.neigh.eth0.proxy_delay=0',
    ]);
  });
});

describe('renderKubeProxyConfig', () => {
  it('runs iptables mode with the cluster CIDR and leaves the machine-wide conntrack limits alone', () => {
    const cfg = parseYaml(
      renderKubeProxyConfig({
        kubeconfigFile: '/var/lib/kube-proxy/kubeconfig',
        nodeName: 'n1',
        clusterCidr: '10.244.0.0/16',
        oomScoreAdj: 0,
      }),
    ) as Record<string, unknown>;
    expect(cfg).toMatchObject({
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      clientConnection: { kubeconfig: '/var/lib/kube-proxy/kubeconfig' },
      hostnameOverride: 'n1',
      mode: 'iptables',
      clusterCIDR: '10.244.0.0/16',
      detectLocalMode: 'ClusterCIDR',
      conntrack: { maxPerCore: 0, min: 0 },
      oomScoreAdj: 0,
    });
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
    });
    // Its own network namespace: the kubelet's iptables chains are the node's.
    expect(cfg).not.toHaveProperty('makeIPTablesUtilChains');
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
  it('puts pods on the node bridge with the node as their gateway, host-local IPAM in the node range, no NAT', () => {
    const conf = JSON.parse(
      renderCniConfig({ networkName: 'n', ...realNodeAddressing(clusterAddressing(0), 4, 'x').cni }),
    ) as { plugins: Record<string, any>[] }; // eslint-disable-line @typescript-eslint/no-explicit-any
    const [bridge, portmap] = conf.plugins;
    expect(bridge).toMatchObject({
      type: 'bridge',
      bridge: 'cni0',
      isGateway: true,
      ipMasq: false,
      hairpinMode: true,
    });
    expect(bridge.ipam.ranges).toEqual([
      [
        {
          subnet: '10.244.4.0/24',
          rangeStart: '10.244.4.2',
          rangeEnd: '10.244.4.254',
          gateway: '10.244.4.1',
        },
      ],
    ]);
    expect(bridge.ipam.routes).toEqual([{ dst: '0.0.0.0/0', gw: '10.244.4.1' }]);
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
    expect(script).not.toContain('sysfs');
  });

  it("mounts the node namespace's own sysfs and keeps the host's cgroup mounts under it", () => {
    const script = bindMountScript([], '/n/cgroup-stash');
    expect(script.split('\n').slice(1, 5)).toEqual([
      'mkdir -p /n/cgroup-stash',
      'mount --rbind /sys/fs/cgroup /n/cgroup-stash',
      'mount -t sysfs -o nosuid,nodev,noexec sysfs /sys',
      'mount --move /n/cgroup-stash /sys/fs/cgroup',
    ]);
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

describe('runc without the capabilities the bounding set lacks', () => {
  it('names the capabilities missing from CapBnd', () => {
    expect(missingFromBoundingSet('CapBnd:\t000001ffffffffff\n')).toEqual([]);
    expect(missingFromBoundingSet('CapBnd:\t000001fffeffffff\n')).toEqual(['CAP_SYS_RESOURCE']);
    expect(missingFromBoundingSet('CapBnd:\t000001fffeffefff\n')).toEqual([
      'CAP_NET_ADMIN',
      'CAP_SYS_RESOURCE',
    ]);
  });

  it('filters the bundle or process spec with jq, then execs runc with the same arguments', () => {
    const script = renderRuncWrapper('/cache/bin/runc', ['CAP_SYS_RESOURCE']);
    expect(script).toMatch(/^#!\/bin\/sh\n/);
    expect(script).toContain(`jq --argjson drop '["CAP_SYS_RESOURCE"]'`);
    expect(script).toContain('--bundle|-b) spec="$arg/config.json"');
    expect(script).toContain('--process|-p) spec="$arg"');
    expect(script.trimEnd().split('\n').pop()).toBe(`exec /cache/bin/runc "$@"`);
  });
});
