import type { DaemonSet as V1DaemonSet } from 'kubernetes-types/apps/v1';
import type { ClusterRole as V1ClusterRole } from 'kubernetes-types/rbac/v1';
import { parseVxlanControllerConfig } from '../../vxlan-controller/config';
import { buildInstallBundle } from './install-bundle';

const base = { image: 'op:1', runnerImage: 'runner:1', devicePluginImage: 'dp:1' };
const find = <T>(opts: Parameters<typeof buildInstallBundle>[0], kind: string) =>
  buildInstallBundle(opts).objects.find(
    (o) => o.kind === kind && o.metadata.name === 'neonvm-vxlan-controller',
  ) as T | undefined;

describe('VXLAN controller in the install bundle', () => {
  test('a hostNetwork DaemonSet from the runner image, on the overlay network’s bridge and range', () => {
    const ds = find<V1DaemonSet>(
      { ...base, network: { bridge: 'ovl0', range: '10.50.0.0/16' } },
      'DaemonSet',
    );
    const pod = ds?.spec?.template.spec;
    const c = pod?.containers[0];
    expect(pod?.hostNetwork).toBe(true);
    expect(pod?.serviceAccountName).toBe('neonvm-vxlan-controller');
    expect(pod?.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(c?.image).toBe('runner:1');
    expect(c?.command).toEqual(['node', '/app/lib/vxlan-controller/main.js']);
    expect(c?.args).toEqual(['--bridge-name=ovl0', '--overlay-cidr=10.50.0.0/16']);
    expect(c?.env?.map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath])).toEqual([
      ['MY_NODE_IP', 'status.hostIP'],
      ['NODE_NAME', 'spec.nodeName'],
    ]);
    expect(c?.securityContext?.capabilities).toEqual({ drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW'] });
    expect(c?.securityContext?.readOnlyRootFilesystem).toBe(true);
  });

  test('its arguments are ones the controller accepts (the same parser as its entry point)', () => {
    const ds = find<V1DaemonSet>(
      { ...base, vxlanController: { vni: 7, port: 8472, extraArgs: ['--resync-interval=1m'] } },
      'DaemonSet',
    );
    const args = ds?.spec?.template.spec?.containers[0].args ?? [];
    const config = parseVxlanControllerConfig(args, { MY_NODE_IP: '10.0.0.5', NODE_NAME: 'n1' });
    expect(config.settings).toEqual({
      bridge: 'neon-br0',
      vxlan: 'neon-vxlan0',
      vni: 7,
      port: 8472,
      localIp: '10.0.0.5',
      overlayCidr: '10.100.0.0/16',
    });
    expect(config.nodeName).toBe('n1');
    expect(config.resyncMs).toBe(60_000);
  });

  test('its ClusterRole only reads Nodes', () => {
    const role = find<V1ClusterRole>(base, 'ClusterRole');
    expect(role?.rules).toEqual([{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] }]);
  });

  test('none with vxlanController: false or without the overlay network; both asked is an error', () => {
    expect(find(base, 'DaemonSet')).toBeDefined();
    expect(find({ ...base, vxlanController: false }, 'DaemonSet')).toBeUndefined();
    expect(find({ ...base, network: false }, 'DaemonSet')).toBeUndefined();
    expect(() => buildInstallBundle({ ...base, network: false, vxlanController: {} })).toThrow(
      /vxlanController needs the overlay network/,
    );
  });
});
