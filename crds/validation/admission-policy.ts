/**
 * The operator's admission policy: which VirtualMachine fields that run code with the node's
 * privileges a namespace editor may set. The runner container holds NET_ADMIN, SYS_ADMIN and
 * SYS_RESOURCE and the node's /sys/fs/cgroup, so a VM namespace cannot enforce a Pod Security level
 * that would stop a hostile spec; this policy, applied by the validating webhook, is the gate.
 *
 * Everything here is off by default; an install opts in through the operator's flags (the
 * `NeonVmInstall` `admission` option renders them). Every refusal names the field, the rule, and the
 * flag and install option that would allow it. On UPDATE only changed fields are judged, so tightening
 * the policy never blocks an unrelated edit or a finalizer removal of an existing VM.
 */
import type { Container, ResourceRequirements } from 'kubernetes-types/core/v1';
import { childPath, fieldError, type FieldError } from '../field-error';
import { getPath } from '../field-policy';
import type { VirtualMachine } from '../schema/virtual-machine';
import { deepEqual } from './util';

/** What `spec.extraInitContainers` may hold. */
export const EXTRA_INIT_CONTAINER_MODES = ['forbidden', 'unprivileged', 'allowed'] as const;
export type ExtraInitContainerMode = (typeof EXTRA_INIT_CONTAINER_MODES)[number];

/**
 * The install-time policy (the one type the operator's flags, the cdk8s `NeonVmInstall` props and the
 * Pulumi install args share). Lists hold patterns: `*` matches any run of characters (including `/`),
 * everything else matches itself — `registry.example.com/neonvm/*`, `*@sha256:<digest>`.
 */
export interface AdmissionPolicy {
  /**
   * Images `spec.runnerImage` may name besides the operator's own runner image (which is always
   * allowed). The runner container has NET_ADMIN, SYS_ADMIN, SYS_RESOURCE and the node's cgroup fs.
   * @default - none
   */
  readonly runnerImages?: readonly string[];
  /**
   * Images `spec.guest.kernelImage` may name (the guest kernel the runner boots instead of its own).
   * @default - none
   */
  readonly kernelImages?: readonly string[];
  /**
   * `spec.extraInitContainers`: `forbidden`; `unprivileged` (no privileged mode, added capabilities,
   * privilege escalation, host-facing security profiles, or mounts of the runner's own volumes); or
   * `allowed` (anything, as upstream).
   * @default 'forbidden'
   */
  readonly extraInitContainers?: ExtraInitContainerMode;
  /**
   * Accept `spec.initScript` (a shell script the runner runs in its privileged container).
   * @default false
   */
  readonly initScript?: boolean;
  /**
   * Resource names `spec.podResources` may request besides cpu, memory, ephemeral-storage and
   * NeonVM's own neonvm/kvm and neonvm/vhost-net — e.g. `hugepages-*`. Extended resources of device
   * plugins hand host devices to the runner; `claims` (dynamic resource allocation) likewise.
   * @default - none
   */
  readonly podResources?: readonly string[];
  /**
   * Accept `spec.podResources.claims` (DRA resource claims: devices for the runner container).
   * @default false
   */
  readonly podResourceClaims?: boolean;
  /**
   * NetworkAttachmentDefinitions (`namespace/name`) `spec.extraNetwork.multusNetwork` may name outside
   * the VM's own namespace and the operator's (whose NADs, such as the install's overlay, are the
   * platform's, meant for every VM).
   * @default - none
   */
  readonly multusNetworks?: readonly string[];
  /**
   * ClusterIssuers `spec.tls.certificateIssuer` may name.
   * @default - any
   */
  readonly certificateIssuers?: readonly string[];
}

export const DEFAULT_ADMISSION_POLICY: AdmissionPolicy = {};

/** The operator flag of each policy option (and so of the install bundle's rendered args). */
export const ADMISSION_POLICY_FLAGS = {
  runnerImages: '--allowed-runner-images',
  kernelImages: '--allowed-kernel-images',
  extraInitContainers: '--extra-init-containers',
  initScript: '--allow-init-script',
  podResources: '--allowed-pod-resources',
  podResourceClaims: '--allow-pod-resource-claims',
  multusNetworks: '--allowed-multus-networks',
  certificateIssuers: '--allowed-certificate-issuers',
} as const satisfies Record<keyof AdmissionPolicy, string>;

/** The operator's args for a policy (lists comma-separated); defaults are left out. */
export function admissionPolicyArgs(policy: AdmissionPolicy): string[] {
  const args: string[] = [];
  const list = (key: keyof typeof ADMISSION_POLICY_FLAGS, values: readonly string[] | undefined) => {
    if (values === undefined) return;
    for (const v of values)
      if (v.includes(',') || v.trim() !== v || v === '')
        throw new Error(
          `admission.${key}: ${JSON.stringify(v)} is not a valid pattern (no commas or spaces)`,
        );
    args.push(`${ADMISSION_POLICY_FLAGS[key]}=${values.join(',')}`);
  };
  list('runnerImages', policy.runnerImages);
  list('kernelImages', policy.kernelImages);
  if (policy.extraInitContainers && policy.extraInitContainers !== 'forbidden')
    args.push(`${ADMISSION_POLICY_FLAGS.extraInitContainers}=${policy.extraInitContainers}`);
  if (policy.initScript) args.push(ADMISSION_POLICY_FLAGS.initScript);
  list('podResources', policy.podResources);
  if (policy.podResourceClaims) args.push(ADMISSION_POLICY_FLAGS.podResourceClaims);
  list('multusNetworks', policy.multusNetworks);
  list('certificateIssuers', policy.certificateIssuers);
  return args;
}

/** What the webhook knows besides the policy. */
export interface AdmissionContext {
  readonly policy: AdmissionPolicy;
  /** The operator's runner image: `spec.runnerImage` may always name it. */
  readonly runnerImage?: string;
  /** The operator's namespace: its NetworkAttachmentDefinitions are allowed to every VM. */
  readonly operatorNamespace?: string;
  /** The VM's namespace (the admission request's). */
  readonly namespace: string;
}

/** Whether `value` matches a pattern (`*` = any run of characters). */
export function matchesPattern(value: string, pattern: string): boolean {
  const re = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${re}$`).test(value);
}

const matchesAny = (value: string, patterns: readonly string[] | undefined): boolean =>
  (patterns ?? []).some((p) => matchesPattern(value, p));

/** How a refusal tells the operator where the rule can be relaxed. */
function allowHint(key: keyof AdmissionPolicy, example: string): string {
  return `allow it with the operator flag ${ADMISSION_POLICY_FLAGS[key]}${example} (NeonVmInstall option admission.${key})`;
}

/** Resource names every VM may request. */
export const ALWAYS_ALLOWED_POD_RESOURCES = [
  'cpu',
  'memory',
  'ephemeral-storage',
  'neonvm/kvm',
  'neonvm/vhost-net',
] as const;

/** The runner pod's own volumes: an init container mounting one reaches the node or the runner's secrets. */
export const RUNNER_VOLUMES = [
  'virtualmachineimages',
  'sysfscgroup',
  'runner-token',
  'ssh-privatekey',
  'ssh-publickey',
  'swapdisk',
  'tls',
  'migration-tls',
] as const;

interface PolicyRule {
  /** The spec field the rule judges: on UPDATE an unchanged field is not judged again. */
  readonly field: string;
  readonly check: (vm: VirtualMachine, ctx: AdmissionContext) => FieldError[];
}

const RULES: readonly PolicyRule[] = [
  {
    field: 'spec.runnerImage',
    check: (vm, ctx) => {
      const image = vm.spec.runnerImage;
      if (image === undefined || image === ctx.runnerImage || matchesAny(image, ctx.policy.runnerImages))
        return [];
      return [
        fieldError(
          'spec.runnerImage',
          'runner-image-not-allowed',
          `the runner runs with NET_ADMIN, SYS_ADMIN, SYS_RESOURCE and the node's cgroup filesystem, so only the operator's runner image${ctx.runnerImage ? ` (${ctx.runnerImage})` : ''} and allowed images may be used; ${allowHint('runnerImages', '=<pattern>,…')}`,
          image,
        ),
      ];
    },
  },
  {
    field: 'spec.guest.kernelImage',
    check: (vm, ctx) => {
      const image = vm.spec.guest.kernelImage;
      if (image === undefined || matchesAny(image, ctx.policy.kernelImages)) return [];
      return [
        fieldError(
          'spec.guest.kernelImage',
          'kernel-image-not-allowed',
          `a guest kernel other than the runner's is run from this image in the runner pod and read by the runner on the node; ${allowHint('kernelImages', '=<pattern>,…')}`,
          image,
        ),
      ];
    },
  },
  {
    field: 'spec.initScript',
    check: (vm, ctx) =>
      vm.spec.initScript === undefined || ctx.policy.initScript
        ? []
        : [
            fieldError(
              'spec.initScript',
              'init-script-not-allowed',
              `runs as a shell script in the runner container (NET_ADMIN, SYS_ADMIN, the node's cgroup filesystem); ${allowHint('initScript', '')}`,
            ),
          ],
  },
  {
    field: 'spec.extraInitContainers',
    check: (vm, ctx) => checkExtraInitContainers(vm.spec.extraInitContainers, ctx.policy),
  },
  {
    field: 'spec.podResources',
    check: (vm, ctx) => checkPodResources(vm.spec.podResources, ctx.policy),
  },
  {
    field: 'spec.extraNetwork.multusNetwork',
    check: (vm, ctx) => {
      const net = vm.spec.extraNetwork?.multusNetwork;
      if (net === undefined || !net.includes('/')) return []; // a bare name is in the VM's namespace
      const namespace = net.slice(0, net.indexOf('/'));
      if (namespace === ctx.namespace || namespace === ctx.operatorNamespace) return [];
      if (matchesAny(net, ctx.policy.multusNetworks)) return [];
      return [
        fieldError(
          'spec.extraNetwork.multusNetwork',
          'multus-network-not-allowed',
          `a NetworkAttachmentDefinition outside the VM's namespace (${ctx.namespace}) attaches the VM to another tenant's network; ${allowHint('multusNetworks', '=<namespace>/<name>,…')}`,
          net,
        ),
      ];
    },
  },
  {
    field: 'spec.tls.certificateIssuer',
    check: (vm, ctx) => {
      const issuer = vm.spec.tls?.certificateIssuer;
      const allowed = ctx.policy.certificateIssuers;
      if (issuer === undefined || allowed === undefined || matchesAny(issuer, allowed)) return [];
      return [
        fieldError(
          'spec.tls.certificateIssuer',
          'certificate-issuer-not-allowed',
          `the operator requests certificates from this ClusterIssuer for any serverName; allowed: ${allowed.join(', ') || 'none'}; ${allowHint('certificateIssuers', '=<name>,…')}`,
          issuer,
        ),
      ];
    },
  },
];

function checkExtraInitContainers(
  containers: readonly Container[] | undefined,
  policy: AdmissionPolicy,
): FieldError[] {
  if (!containers || containers.length === 0) return [];
  const mode = policy.extraInitContainers ?? 'forbidden';
  if (mode === 'allowed') return [];
  if (mode === 'forbidden')
    return [
      fieldError(
        'spec.extraInitContainers',
        'init-containers-not-allowed',
        `extra init containers run in the runner pod, next to its node-facing volumes; ${allowHint('extraInitContainers', '=unprivileged|allowed')}`,
      ),
    ];
  const errors: FieldError[] = [];
  const hint = allowHint('extraInitContainers', '=allowed');
  containers.forEach((c, i) => {
    const base = `spec.extraInitContainers[${i}]`;
    const sc = c.securityContext ?? {};
    const refuse = (path: string, what: string, value?: unknown) =>
      errors.push(
        fieldError(
          `${base}.${path}`,
          'privileged-init-container',
          `${what} (unprivileged mode); ${hint}`,
          value,
        ),
      );
    if (sc.privileged) refuse('securityContext.privileged', 'must not be privileged', true);
    if (sc.allowPrivilegeEscalation)
      refuse('securityContext.allowPrivilegeEscalation', 'must not allow privilege escalation', true);
    if ((sc.capabilities?.add ?? []).length > 0)
      refuse('securityContext.capabilities.add', 'must not add capabilities', sc.capabilities?.add);
    if (sc.procMount !== undefined && sc.procMount !== 'Default')
      refuse('securityContext.procMount', 'must use the default /proc mask', sc.procMount);
    if (sc.seccompProfile?.type === 'Unconfined')
      refuse('securityContext.seccompProfile.type', 'must not run without seccomp', 'Unconfined');
    if (sc.appArmorProfile?.type === 'Unconfined')
      refuse('securityContext.appArmorProfile.type', 'must not run without AppArmor', 'Unconfined');
    if (sc.seLinuxOptions !== undefined)
      refuse('securityContext.seLinuxOptions', 'must not set SELinux options', sc.seLinuxOptions);
    (c.volumeMounts ?? []).forEach((m, j) => {
      if ((RUNNER_VOLUMES as readonly string[]).includes(m.name))
        refuse(`volumeMounts[${j}].name`, `must not mount the runner's volume '${m.name}'`, m.name);
    });
    if ((c.volumeDevices ?? []).length > 0)
      refuse('volumeDevices', 'must not attach block devices', c.volumeDevices?.length);
  });
  return errors;
}

function checkPodResources(
  resources: ResourceRequirements | undefined,
  policy: AdmissionPolicy,
): FieldError[] {
  if (!resources) return [];
  const errors: FieldError[] = [];
  for (const kind of ['limits', 'requests'] as const) {
    for (const name of Object.keys(resources[kind] ?? {})) {
      if ((ALWAYS_ALLOWED_POD_RESOURCES as readonly string[]).includes(name)) continue;
      if (matchesAny(name, policy.podResources)) continue;
      errors.push(
        fieldError(
          childPath(`spec.podResources.${kind}`, name),
          'pod-resource-not-allowed',
          `only ${ALWAYS_ALLOWED_POD_RESOURCES.join(', ')} may be requested (extended resources hand node devices to the runner); ${allowHint('podResources', '=<name>,…')}`,
          name,
        ),
      );
    }
  }
  if ((resources.claims ?? []).length > 0 && !policy.podResourceClaims)
    errors.push(
      fieldError(
        'spec.podResources.claims',
        'pod-resource-claims-not-allowed',
        `resource claims hand node devices to the runner; ${allowHint('podResourceClaims', '')}`,
      ),
    );
  return errors;
}

/** The policy's refusals for a VM being created (`vm` as admitted: defaulted or not). */
export function validateVirtualMachinePolicy(vm: VirtualMachine, ctx: AdmissionContext): FieldError[] {
  if (typeof vm?.spec !== 'object' || vm.spec === null || typeof vm.spec.guest !== 'object') return [];
  return RULES.flatMap((r) => r.check(vm, ctx));
}

/**
 * The policy's refusals for an update: only fields that changed are judged (ratcheting), so a VM
 * admitted under an earlier, looser policy can still be edited, scaled and deleted.
 */
export function validateVirtualMachinePolicyUpdate(
  oldVm: VirtualMachine,
  newVm: VirtualMachine,
  ctx: AdmissionContext,
): FieldError[] {
  if (typeof newVm?.spec !== 'object' || newVm.spec === null || typeof newVm.spec.guest !== 'object')
    return [];
  return RULES.filter((r) => !deepEqual(getPath(oldVm, r.field), getPath(newVm, r.field))).flatMap((r) =>
    r.check(newVm, ctx),
  );
}
