import {
  ADMISSION_POLICY_FLAGS,
  admissionPolicyArgs,
  matchesPattern,
  validateVirtualMachinePolicy,
  validateVirtualMachinePolicyUpdate,
  type AdmissionContext,
  type AdmissionPolicy,
} from './admission-policy';
import type { VirtualMachine } from '../schema/virtual-machine';
import { setPath, vmInput, type Edit } from '../testing';

const set =
  (path: string, value: unknown): Edit<VirtualMachine> =>
  (vm) =>
    setPath(vm, path, value);

const RUNNER = 'registry.example.com/neonvm/runner@sha256:aaaa';
const ctx = (policy: AdmissionPolicy = {}): AdmissionContext => ({
  policy,
  runnerImage: RUNNER,
  operatorNamespace: 'neonvm-system',
  namespace: 'tenant-a',
});

type Case = [description: string, edit: Edit<VirtualMachine>, path: string, rule: string];

// Each case sets one field that runs code with node privileges; the default policy refuses it at its path.
const REFUSED: Case[] = [
  [
    'another runner image',
    set('spec.runnerImage', 'evil/runner:1'),
    'spec.runnerImage',
    'runner-image-not-allowed',
  ],
  [
    'a kernel image',
    set('spec.guest.kernelImage', 'evil/kernel:1'),
    'spec.guest.kernelImage',
    'kernel-image-not-allowed',
  ],
  [
    'an init script',
    set('spec.initScript', 'mount -t cgroup2 x /mnt'),
    'spec.initScript',
    'init-script-not-allowed',
  ],
  [
    'extra init containers',
    set('spec.extraInitContainers', [{ name: 'x', image: 'busybox' }]),
    'spec.extraInitContainers',
    'init-containers-not-allowed',
  ],
  [
    'a device plugin resource',
    set('spec.podResources', { limits: { 'nvidia.com/gpu': '1' } }),
    'spec.podResources.limits[nvidia.com/gpu]',
    'pod-resource-not-allowed',
  ],
  [
    'a requested extended resource',
    set('spec.podResources', { requests: { 'squat.ai/fuse': '1' } }),
    'spec.podResources.requests[squat.ai/fuse]',
    'pod-resource-not-allowed',
  ],
  [
    'resource claims',
    set('spec.podResources', { claims: [{ name: 'gpu' }] }),
    'spec.podResources.claims',
    'pod-resource-claims-not-allowed',
  ],
  [
    "another namespace's network",
    set('spec.extraNetwork', { enable: true, multusNetwork: 'tenant-b/private' }),
    'spec.extraNetwork.multusNetwork',
    'multus-network-not-allowed',
  ],
];

describe('the default admission policy', () => {
  it("accepts an ordinary VM, the operator runner image, its own and the operator's networks", () => {
    expect(validateVirtualMachinePolicy(vmInput(), ctx())).toEqual([]);
    expect(validateVirtualMachinePolicy(vmInput(set('spec.runnerImage', RUNNER)), ctx())).toEqual([]);
    const net = (n: string) => set('spec.extraNetwork', { enable: true, multusNetwork: n });
    for (const n of ['tenant-a/mine', 'mine', 'neonvm-system/neonvm-overlay-for-vms'])
      expect(validateVirtualMachinePolicy(vmInput(net(n)), ctx())).toEqual([]);
    const resources = set('spec.podResources', {
      requests: { cpu: '1', memory: '1Gi' },
      limits: { memory: '2Gi', 'ephemeral-storage': '1Gi', 'neonvm/kvm': '1' },
    });
    expect(validateVirtualMachinePolicy(vmInput(resources), ctx())).toEqual([]);
    // Issuers are open unless the install lists them.
    const tls = set('spec.tls', { certificateIssuer: 'any-ca', serverName: 'vm.example' });
    expect(validateVirtualMachinePolicy(vmInput(tls), ctx())).toEqual([]);
  });

  it.each(REFUSED)('refuses %s at its path, naming the flag that allows it', (_d, edit, path, rule) => {
    const errors = validateVirtualMachinePolicy(vmInput(edit), ctx());
    expect(errors.map((e) => [e.path, e.rule])).toEqual([[path, rule]]);
    expect(errors[0].message).toMatch(
      /operator flag --[a-z-]+.*\(NeonVmInstall option admission\.[a-zA-Z]+\)/,
    );
  });

  it('never throws on a VM without a spec', () => {
    expect(validateVirtualMachinePolicy({} as VirtualMachine, ctx())).toEqual([]);
    expect(validateVirtualMachinePolicy({ spec: {} } as VirtualMachine, ctx())).toEqual([]);
  });
});

describe('an admission policy that allows', () => {
  it('runner and kernel images by prefix and by digest', () => {
    const policy = { runnerImages: ['registry.example.com/custom/*'], kernelImages: ['*@sha256:bbbb'] };
    const ok = vmInput(
      set('spec.runnerImage', 'registry.example.com/custom/runner:2'),
      set('spec.guest.kernelImage', 'registry.example.com/kernels/k@sha256:bbbb'),
    );
    expect(validateVirtualMachinePolicy(ok, ctx(policy))).toEqual([]);
    const bad = vmInput(
      set('spec.runnerImage', 'registry.example.com/customer/runner:2'),
      set('spec.guest.kernelImage', 'registry.example.com/kernels/k@sha256:cccc'),
    );
    expect(validateVirtualMachinePolicy(bad, ctx(policy)).map((e) => e.rule)).toEqual([
      'runner-image-not-allowed',
      'kernel-image-not-allowed',
    ]);
  });

  it('init scripts, resources and networks when listed', () => {
    const policy: AdmissionPolicy = {
      initScript: true,
      podResources: ['hugepages-*'],
      podResourceClaims: true,
      multusNetworks: ['shared/*'],
    };
    const vm = vmInput(
      set('spec.initScript', 'true'),
      set('spec.podResources', { limits: { 'hugepages-2Mi': '1Gi' }, claims: [{ name: 'x' }] }),
      set('spec.extraNetwork', { enable: true, multusNetwork: 'shared/overlay' }),
    );
    expect(validateVirtualMachinePolicy(vm, ctx(policy))).toEqual([]);
  });

  it('only the listed certificate issuers once a list is given', () => {
    const tls = (issuer: string) => set('spec.tls', { certificateIssuer: issuer, serverName: 'vm' });
    const policy = { certificateIssuers: ['tenant-ca'] };
    expect(validateVirtualMachinePolicy(vmInput(tls('tenant-ca')), ctx(policy))).toEqual([]);
    expect(validateVirtualMachinePolicy(vmInput(tls('org-root')), ctx(policy))).toMatchObject([
      { path: 'spec.tls.certificateIssuer', rule: 'certificate-issuer-not-allowed' },
    ]);
  });

  describe('unprivileged init containers', () => {
    const policy: AdmissionPolicy = { extraInitContainers: 'unprivileged' };
    const withContainer = (c: Record<string, unknown>) =>
      vmInput(
        set('spec.extraInitContainers', [
          { name: 'ok', image: 'busybox' },
          { name: 'x', image: 'busybox', ...c },
        ]),
      );

    it('accepts a plain container', () => {
      expect(validateVirtualMachinePolicy(withContainer({ command: ['true'] }), ctx(policy))).toEqual([]);
    });

    it.each<[string, Record<string, unknown>, string]>([
      ['privileged', { securityContext: { privileged: true } }, 'securityContext.privileged'],
      [
        'escalation',
        { securityContext: { allowPrivilegeEscalation: true } },
        'securityContext.allowPrivilegeEscalation',
      ],
      [
        'capabilities',
        { securityContext: { capabilities: { add: ['SYS_ADMIN'] } } },
        'securityContext.capabilities.add',
      ],
      ['unmasked /proc', { securityContext: { procMount: 'Unmasked' } }, 'securityContext.procMount'],
      [
        'no seccomp',
        { securityContext: { seccompProfile: { type: 'Unconfined' } } },
        'securityContext.seccompProfile.type',
      ],
      [
        'the host cgroup fs',
        { volumeMounts: [{ name: 'sysfscgroup', mountPath: '/c' }] },
        'volumeMounts[0].name',
      ],
      [
        'the runner token',
        { volumeMounts: [{ name: 'runner-token', mountPath: '/t' }] },
        'volumeMounts[0].name',
      ],
    ])('refuses %s', (_d, c, path) => {
      expect(validateVirtualMachinePolicy(withContainer(c), ctx(policy))).toMatchObject([
        { path: `spec.extraInitContainers[1].${path}`, rule: 'privileged-init-container' },
      ]);
    });

    it('allowed: anything, as upstream', () => {
      const vm = withContainer({ securityContext: { privileged: true } });
      expect(validateVirtualMachinePolicy(vm, ctx({ extraInitContainers: 'allowed' }))).toEqual([]);
    });
  });
});

describe('policy on update (ratcheting)', () => {
  it('does not judge unchanged fields again', () => {
    const old = vmInput(set('spec.initScript', 'true'), set('spec.runnerImage', 'old/runner:1'));
    const scaled = vmInput(
      set('spec.initScript', 'true'),
      set('spec.runnerImage', 'old/runner:1'),
      set('spec.guest.cpus.use', 2),
      set('metadata.finalizers', []),
    );
    expect(validateVirtualMachinePolicyUpdate(old, scaled, ctx())).toEqual([]);
  });

  it('judges a changed field', () => {
    const old = vmInput();
    const changed = vmInput(set('spec.runnerImage', 'evil/runner:1'));
    expect(validateVirtualMachinePolicyUpdate(old, changed, ctx())).toMatchObject([
      { path: 'spec.runnerImage', rule: 'runner-image-not-allowed' },
    ]);
  });
});

describe('policy flags', () => {
  it('renders only what differs from the default', () => {
    expect(admissionPolicyArgs({})).toEqual([]);
    expect(admissionPolicyArgs({ extraInitContainers: 'forbidden', initScript: false })).toEqual([]);
    expect(
      admissionPolicyArgs({
        runnerImages: ['a/*', 'b@sha256:1'],
        extraInitContainers: 'unprivileged',
        initScript: true,
        podResourceClaims: true,
        certificateIssuers: [],
      }),
    ).toEqual([
      `${ADMISSION_POLICY_FLAGS.runnerImages}=a/*,b@sha256:1`,
      '--extra-init-containers=unprivileged',
      '--allow-init-script',
      '--allow-pod-resource-claims',
      '--allowed-certificate-issuers=',
    ]);
  });

  it('refuses patterns the comma-separated flag cannot carry', () => {
    expect(() => admissionPolicyArgs({ kernelImages: ['a,b'] })).toThrow(/admission\.kernelImages/);
  });
});

describe('matchesPattern', () => {
  it.each<[string, string, boolean]>([
    ['a/b:1', 'a/b:1', true],
    ['a/b:1', 'a/b:2', false],
    ['a/b:1', 'a/*', true],
    ['ab/c', 'a/*', false],
    ['x/y@sha256:ff', '*@sha256:ff', true],
    ['x/y@sha256:ff0', '*@sha256:ff', false],
    ['a.b', 'a?b', false],
    ['axb', 'a.b', false],
  ])('%s ~ %s = %s', (value, pattern, expected) => {
    expect(matchesPattern(value, pattern)).toBe(expected);
  });
});
