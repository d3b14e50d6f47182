/**
 * The runner NetworkPolicy as the install bundle synthesizes it, checked against NetworkPolicy's
 * semantics (constructs/testing): who reaches which runner port. The local cluster has no CNI that
 * enforces NetworkPolicy, so this is the policy's meaning, not observed enforcement.
 */
import { Testing } from 'cdk8s';
import {
  LABEL_APP_NAME,
  LABEL_VM_NAME,
  MIGRATION_DISK_PORT,
  MIGRATION_PORT,
  RUNNER_APP_NAME,
} from '../../crds';
import { NeonVmInstall } from '../neon-vm-install';
import { ingressAllowed, type Endpoint, type NetworkPolicyJson } from '../testing';
import { openTcpRanges } from './runner-network-policy';

const base = {
  image: 'ghcr.io/neonvm-ts/operator:0.1.0',
  runnerImage: 'ghcr.io/neonvm-ts/runner:0.1.0',
  devicePluginImage: 'ghcr.io/neonvm-ts/device-plugin:0.1.0',
};

function synth(props: Partial<ConstructorParameters<typeof NeonVmInstall>[2]> = {}) {
  const chart = Testing.chart();
  new NeonVmInstall(chart, 'neonvm', { ...base, ...props });
  const out = Testing.synth(chart);
  const policies = out.filter((o) => o.kind === 'NetworkPolicy') as NetworkPolicyJson[];
  const deployment = out.find((o) => o.kind === 'Deployment' && o.metadata.name === 'neonvm-controller');
  // The operator pod as the Deployment makes it: its namespace and template labels.
  const operator: Endpoint = {
    namespace: deployment.metadata.namespace,
    labels: deployment.spec.template.metadata.labels,
  };
  return { policies, operator };
}

// Runner pods as operator/pod labels them (crds constants), and other pods.
const runner = (namespace: string, vm: string): Endpoint => ({
  namespace,
  labels: { team: 'a', [LABEL_APP_NAME]: RUNNER_APP_NAME, [LABEL_VM_NAME]: vm },
});
const workload = (namespace: string): Endpoint => ({ namespace, labels: { app: 'web' } });
const RUNNER_API = 25183;

describe('runner NetworkPolicy in the synthesized install bundle', () => {
  const { policies, operator } = synth();
  const vm = runner('default', 'vm1');

  it('is one policy per VM namespace (default: the default namespace), selecting only runner pods', () => {
    expect(
      policies.map((p) => [p.metadata?.namespace, (p as { metadata: { name: string } }).metadata.name]),
    ).toEqual([['default', 'neonvm-runner']]);
    expect(
      ingressAllowed(policies, { from: workload('default'), to: workload('default'), port: RUNNER_API }),
    ).toBe(true);
  });

  it('lets only the operator reach the runner API', () => {
    expect(ingressAllowed(policies, { from: operator, to: vm, port: RUNNER_API })).toBe(true);
    expect(ingressAllowed(policies, { from: workload('default'), to: vm, port: RUNNER_API })).toBe(false);
    expect(ingressAllowed(policies, { from: runner('default', 'vm2'), to: vm, port: RUNNER_API })).toBe(
      false,
    );
    // Another pod in the operator's namespace, or a pod labelled like the operator elsewhere: no.
    expect(
      ingressAllowed(policies, {
        from: { namespace: operator.namespace, labels: { app: 'x' } },
        to: vm,
        port: RUNNER_API,
      }),
    ).toBe(false);
    expect(
      ingressAllowed(policies, { from: { ...operator, namespace: 'default' }, to: vm, port: RUNNER_API }),
    ).toBe(false);
  });

  it.each([
    ['the migration port', MIGRATION_PORT],
    ["the disks' NBD port (migration port + 1)", MIGRATION_DISK_PORT],
  ])('lets only runner pods reach %s', (_what, port) => {
    expect(ingressAllowed(policies, { from: runner('default', 'vm1'), to: vm, port })).toBe(true);
    expect(ingressAllowed(policies, { from: workload('default'), to: vm, port })).toBe(false);
    expect(ingressAllowed(policies, { from: operator, to: vm, port })).toBe(false);
    // A runner pod of another namespace (another tenant): no.
    expect(ingressAllowed(policies, { from: runner('tenant-b', 'vm9'), to: vm, port })).toBe(false);
  });

  it('keeps the guest ports open to everyone and QMP closed', () => {
    for (const port of [22, 5432, 8080, 20182, 20185, 20186, 20189, 25182, 25184, 65535])
      expect(ingressAllowed(policies, { from: workload('tenant-b'), to: vm, port })).toBe(true);
    expect(ingressAllowed(policies, { from: workload('x'), to: vm, port: 5353, protocol: 'UDP' })).toBe(true);
    for (const port of [20183, 20184])
      expect(ingressAllowed(policies, { from: runner('default', 'vm2'), to: vm, port })).toBe(false);
  });

  it('options: VM namespaces, more runner API peers, off', () => {
    const prometheus: Endpoint = { namespace: 'monitoring', labels: { app: 'prometheus' } };
    const { policies: p2 } = synth({
      networkPolicy: {
        namespaces: ['tenant-a', 'tenant-b'],
        runnerApiFrom: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
            podSelector: { matchLabels: { app: 'prometheus' } },
          },
        ],
      },
    });
    expect(p2.map((p) => p.metadata?.namespace)).toEqual(['tenant-a', 'tenant-b']);
    expect(ingressAllowed(p2, { from: prometheus, to: runner('tenant-b', 'v'), port: RUNNER_API })).toBe(
      true,
    );
    expect(ingressAllowed(p2, { from: prometheus, to: runner('tenant-b', 'v'), port: MIGRATION_PORT })).toBe(
      false,
    );
    expect(synth({ networkPolicy: false }).policies).toEqual([]);
  });
});

describe('openTcpRanges', () => {
  it('covers every port but the closed ones', () => {
    expect(openTcpRanges([3, 5, 6, 65535])).toEqual([
      { protocol: 'TCP', port: 1, endPort: 2 },
      { protocol: 'TCP', port: 4 },
      { protocol: 'TCP', port: 7, endPort: 65534 },
    ]);
    expect(openTcpRanges([])).toEqual([{ protocol: 'TCP', port: 1, endPort: 65535 }]);
  });
});
