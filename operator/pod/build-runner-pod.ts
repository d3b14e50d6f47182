/**
 * The runner pod of a VM (upstream §3.4), as a pure function of the VM and the operator config, so it
 * is golden-tested. Migration targets get the same pod plus RECEIVE_MIGRATION, their own owner and
 * anti-affinity to the source's node.
 */
import type {
  V1Container,
  V1ContainerPort,
  V1EnvVar,
  V1NodeSelectorTerm,
  V1OwnerReference,
  V1Pod,
  V1PodAffinityTerm,
  V1ResourceRequirements,
  V1SecurityContext,
  V1Toleration,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import {
  API_VERSION,
  LABEL_VM_NAME,
  MIGRATION_DISK_PORT,
  MIGRATION_PORT,
  RUNNER_CONTAINER_NAME,
  canonicalObject,
  encodeGzipBase64,
  type VirtualMachine,
  type VirtualMachineStatus,
} from '../../crds';
import {
  DEFAULT_MIGRATION_TLS_DIR,
  DEFAULT_TOKEN_FILE,
  MIGRATION_TLS_DIR_FLAG,
  MIGRATION_TLS_HOSTNAME_FLAG,
  QEMU_TLS_FILES,
  TOKEN_FILE_ENV,
  migrationTlsHostname,
  migrationTuningArgs,
} from '../../runner/api';
import { accelerationEnabled, cpuScalingMode, required, sshEnabled, vmRunnerPort } from '../vm/vm-spec';
import { intersectTerms, runnerPodAffinity } from './node-affinity';
import { runnerPodAnnotations, runnerPodLabels } from './pod-metadata';
import type { RunnerPodConfig } from './runner-pod-config';

/** Volume holding the runner API token; mounted so the file is DEFAULT_TOKEN_FILE. */
export const RUNNER_TOKEN_VOLUME = 'runner-token';
export const RUNNER_TOKEN_SECRET_KEY = 'token';
/** Volume of the VM's migration TLS credentials (QEMU's file layout, read-only, owner-only). */
export const MIGRATION_TLS_VOLUME = 'migration-tls';
const TOKEN_DIR = DEFAULT_TOKEN_FILE.slice(0, DEFAULT_TOKEN_FILE.lastIndexOf('/'));
const TOKEN_FILE_NAME = DEFAULT_TOKEN_FILE.slice(DEFAULT_TOKEN_FILE.lastIndexOf('/') + 1);

/**
 * The root disk step, run in the user's `rootDisk.image` — unprivileged (upstream runs this image
 * privileged, which hands the node to anyone who may create a VM): copy the image's `/disk.qcow2`
 * into the pod's image volume, as uid:gid 36:34 (qemu:kvm, upstream's owner), so no chown is needed.
 * The runner checks the copy before use (format qcow2, no backing or data file). In a real container
 * NEONVM_POD_ROOT/NEONVM_IMAGE_FILES are unset; on the local cluster, where containers are host
 * processes, the script finds the image files and the pod's volumes through them (cluster/README.md).
 */
export const INIT_SCRIPT = [
  'set -e',
  'root="${NEONVM_POD_ROOT:-}"',
  'src=/disk.qcow2',
  'if [ -n "${NEONVM_IMAGE_FILES:-}" ]; then src="$NEONVM_IMAGE_FILES/disk.qcow2"; fi',
  'cp "$src" "$root/vm/images/rootdisk.qcow2"',
].join('\n');

/**
 * What upstream's privileged init step also did: the sysctls of tap networking in the pod's network
 * namespace, which a container can only write when privileged (/proc/sys is read-only otherwise).
 * Run by the runner image — the operator's own or an allowed one, trusted with the node already — and
 * without a shell.
 */
export const SYSCTL_COMMAND = [
  'sysctl',
  '-w',
  'net.ipv4.ip_forward=1',
  'net.ipv4.conf.all.route_localnet=1',
] as const;

/** For init containers that run the user's images: nothing more than any pod may have. */
const unprivileged = (): V1SecurityContext => ({
  runAsUser: 36,
  runAsGroup: 34,
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
});

/** Node failure is noticed after 30 s instead of the default 300 s (upstream #1055). */
export const NODE_FAILURE_TOLERATIONS: readonly V1Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 },
];

export interface MigrationTargetOptions {
  readonly migrationName: string;
  readonly migrationUid: string;
  readonly preventMigrationToSameHost: boolean;
  readonly nodeSelector?: Record<string, string>;
  readonly nodeSelectorTerms?: V1NodeSelectorTerm[];
}

export interface RunnerPodInput {
  /** A defaulted VM with a uid. */
  readonly vm: VirtualMachine;
  readonly podName: string;
  /** Secret holding the runner API token under key `token`. */
  readonly tokenSecretName: string;
  /**
   * Secret with the VM's migration TLS credentials (runner/api migration-tls.ts): mounted, and the
   * runner encrypts its migrations with them. Absent: plaintext migration (`--migration-tls=false`).
   */
  readonly migrationTlsSecretName?: string;
  /** Status passed to the runner (`-vmstatus`); defaults to the VM's status. */
  readonly status?: VirtualMachineStatus;
  readonly migrationTarget?: MigrationTargetOptions;
}

export function vmOwnerReference(vm: VirtualMachine, controller: boolean): V1OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: 'VirtualMachine',
    name: vm.metadata?.name ?? '',
    uid: vm.metadata?.uid ?? '',
    controller,
    blockOwnerDeletion: true,
  };
}

export function buildRunnerPod(input: RunnerPodInput, config: RunnerPodConfig): V1Pod {
  const { vm, podName, migrationTarget } = input;
  const spec = vm.spec;
  const vmName = vm.metadata?.name ?? '';
  const volumes: V1Volume[] = [{ name: 'virtualmachineimages', emptyDir: {} }];
  const mounts: V1VolumeMount[] = [{ name: 'virtualmachineimages', mountPath: '/vm/images' }];
  if (!config.disableRunnerCgroup) {
    volumes.push({ name: 'sysfscgroup', hostPath: { path: '/sys/fs/cgroup', type: 'Directory' } });
    mounts.push({ name: 'sysfscgroup', mountPath: '/sys/fs/cgroup', mountPropagation: 'None' });
  }
  addFeatureVolumes(input, volumes, mounts);

  const ownerReferences: V1OwnerReference[] = migrationTarget
    ? [
        {
          apiVersion: API_VERSION,
          kind: 'VirtualMachineMigration',
          name: migrationTarget.migrationName,
          uid: migrationTarget.migrationUid,
          controller: true,
          blockOwnerDeletion: true,
        },
        vmOwnerReference(vm, false),
      ]
    : [vmOwnerReference(vm, true)];

  const affinity = runnerPodAffinity(spec.affinity, spec.targetArchitecture);
  if (migrationTarget?.nodeSelectorTerms) {
    const required = affinity.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    if (required)
      required.nodeSelectorTerms =
        intersectTerms(required.nodeSelectorTerms, migrationTarget.nodeSelectorTerms) ?? [];
  }
  if (migrationTarget?.preventMigrationToSameHost) {
    const term: V1PodAffinityTerm = {
      labelSelector: { matchLabels: { [LABEL_VM_NAME]: vmName } },
      topologyKey: 'kubernetes.io/hostname',
    };
    const anti = affinity.podAntiAffinity ?? {};
    anti.requiredDuringSchedulingIgnoredDuringExecution = [
      ...(anti.requiredDuringSchedulingIgnoredDuringExecution ?? []),
      term,
    ];
    affinity.podAntiAffinity = anti;
  }

  const nodeSelector =
    spec.nodeSelector || migrationTarget?.nodeSelector
      ? { ...(spec.nodeSelector ?? {}), ...(migrationTarget?.nodeSelector ?? {}) }
      : undefined;

  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName,
      namespace: vm.metadata?.namespace,
      labels: runnerPodLabels(vm),
      annotations: runnerPodAnnotations(vm, config.defaultMultusNetwork),
      ownerReferences,
    },
    spec: {
      enableServiceLinks: spec.service_links,
      automountServiceAccountToken: false,
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
      nodeSelector,
      imagePullSecrets: spec.imagePullSecrets,
      serviceAccountName: spec.serviceAccountName,
      schedulerName: spec.schedulerName,
      tolerations: [...(spec.tolerations ?? []), ...NODE_FAILURE_TOLERATIONS],
      affinity,
      initContainers: [...initContainers(vm, config), ...(spec.extraInitContainers ?? [])],
      containers: [runnerContainer(input, config, mounts)],
      volumes,
    },
  };
}

function initContainers(vm: VirtualMachine, config: RunnerPodConfig): V1Container[] {
  const guest = vm.spec.guest;
  const pullPolicy = guest.rootDisk.imagePullPolicy;
  const images: V1VolumeMount = { name: 'virtualmachineimages', mountPath: '/vm/images' };
  const out: V1Container[] = [
    {
      name: 'init',
      image: guest.rootDisk.image,
      imagePullPolicy: pullPolicy,
      securityContext: unprivileged(),
      volumeMounts: [images],
      command: ['sh', '-c', INIT_SCRIPT],
    },
    {
      name: 'init-sysctl',
      image: vm.spec.runnerImage ?? config.runnerImage,
      imagePullPolicy: 'IfNotPresent',
      securityContext: { privileged: true },
      command: [...SYSCTL_COMMAND],
    },
  ];
  if (guest.kernelImage) {
    out.push({
      name: 'init-kernel',
      image: guest.kernelImage,
      imagePullPolicy: pullPolicy,
      securityContext: unprivileged(),
      volumeMounts: [images],
      args: ['cp', '/vmlinuz', '/vm/images/vmlinuz'],
    });
  }
  return out;
}

function runnerContainer(
  input: RunnerPodInput,
  config: RunnerPodConfig,
  volumeMounts: V1VolumeMount[],
): V1Container {
  const { vm } = input;
  const spec = vm.spec;
  const guest = spec.guest;
  const canonical = canonicalObject(vm);
  const command = ['runner'];
  if (config.disableRunnerCgroup) command.push('-skip-cgroup-management');
  if (config.useVirtioConsole) command.push('-use-virtio-console');
  command.push(
    '-qemu-disk-cache-settings',
    config.qemuDiskCacheSettings,
    '-memhp-auto-movable-ratio',
    guest.memhpAutoMovableRatio ?? config.memhpAutoMovableRatio,
    '-vmspec',
    encodeGzipBase64(canonical.spec),
    '-vmstatus',
    encodeGzipBase64(input.status ?? canonical.status ?? {}),
    '-cpu-scaling-mode',
    cpuScalingMode(vm, config.defaultCpuScalingMode),
    ...(config.migrationTuning ? migrationTuningArgs(config.migrationTuning) : []),
  );
  const args: string[] = [];
  if (input.migrationTlsSecretName)
    args.push(
      `-${MIGRATION_TLS_DIR_FLAG}=${DEFAULT_MIGRATION_TLS_DIR}`,
      `-${MIGRATION_TLS_HOSTNAME_FLAG}=${migrationTlsHostname(vm.metadata?.uid ?? '')}`,
    );
  if (guest.kernelImage) args.push('-kernelpath=/vm/images/vmlinuz');
  if (guest.appendKernelCmdline) args.push(`-appendKernelCmdline=${guest.appendKernelCmdline}`);

  const env: V1EnvVar[] = [
    { name: 'K8S_POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: TOKEN_FILE_ENV, value: DEFAULT_TOKEN_FILE },
  ];
  if (input.migrationTarget) env.push({ name: 'RECEIVE_MIGRATION', value: 'true' });

  const runnerPort = vmRunnerPort(vm);
  return {
    name: RUNNER_CONTAINER_NAME,
    image: spec.runnerImage ?? config.runnerImage,
    imagePullPolicy: 'IfNotPresent',
    securityContext: { privileged: false, capabilities: { add: ['NET_ADMIN', 'SYS_ADMIN', 'SYS_RESOURCE'] } },
    ports: [
      { name: 'qmp', containerPort: required(spec.qmp, 'spec.qmp') },
      { name: 'qmp-manual', containerPort: required(spec.qmpManual, 'spec.qmpManual') },
      { name: 'runner', containerPort: runnerPort },
      // Where a migration target receives: the RAM stream, and with QEMU >= 9.1 (no block migration)
      // the writable disks over NBD on the next port. Declared for the reader and for policies that
      // name ports; unnamed when a guest port already has the name (names must be unique in a pod).
      ...migrationPorts(guest.ports ?? []),
      ...(guest.ports ?? []).map((p) => ({
        containerPort: p.port,
        ...(p.name ? { name: p.name } : {}),
        ...(p.protocol ? { protocol: p.protocol } : {}),
      })),
    ],
    command,
    args: args.length > 0 ? args : undefined,
    env,
    volumeMounts,
    resources: runnerResources(vm, config),
    readinessProbe: {
      httpGet: { path: '/ready', port: runnerPort },
      initialDelaySeconds: 5,
      periodSeconds: 5,
      failureThreshold: 3,
    },
  };
}

function runnerResources(vm: VirtualMachine, config: RunnerPodConfig): V1ResourceRequirements {
  const base: V1ResourceRequirements = structuredClone(vm.spec.podResources ?? {});
  if (!config.devicePluginResources) return base;
  const limits: Record<string, string> = { ...(base.limits ?? {}), 'neonvm/vhost-net': '1' };
  if (accelerationEnabled(vm)) limits['neonvm/kvm'] = '1';
  return { ...base, limits };
}

function addFeatureVolumes(input: RunnerPodInput, volumes: V1Volume[], mounts: V1VolumeMount[]): void {
  const { vm } = input;
  const status = vm.status ?? {};
  volumes.push({
    name: RUNNER_TOKEN_VOLUME,
    secret: {
      secretName: input.tokenSecretName,
      items: [{ key: RUNNER_TOKEN_SECRET_KEY, path: TOKEN_FILE_NAME, mode: 0o400 }],
    },
  });
  mounts.push({ name: RUNNER_TOKEN_VOLUME, mountPath: TOKEN_DIR, readOnly: true });
  if (input.migrationTlsSecretName) {
    volumes.push({
      name: MIGRATION_TLS_VOLUME,
      secret: {
        secretName: input.migrationTlsSecretName,
        items: QEMU_TLS_FILES.map(({ file, key }) => ({ key, path: file, mode: 0o400 })),
      },
    });
    mounts.push({ name: MIGRATION_TLS_VOLUME, mountPath: DEFAULT_MIGRATION_TLS_DIR, readOnly: true });
  }
  if (sshEnabled(vm) && status.sshSecretName) {
    volumes.push(
      {
        name: 'ssh-privatekey',
        secret: {
          secretName: status.sshSecretName,
          items: [{ key: 'ssh-privatekey', path: 'id_ed25519', mode: 0o600 }],
        },
      },
      {
        name: 'ssh-publickey',
        secret: {
          secretName: status.sshSecretName,
          items: [{ key: 'ssh-publickey', path: 'authorized_keys', mode: 0o644 }],
        },
      },
    );
    mounts.push(
      { name: 'ssh-privatekey', mountPath: '/mnt/ssh' },
      { name: 'ssh-publickey', mountPath: '/vm/ssh' },
    );
  }
  const swap = vm.spec.guest.settings?.swap;
  if (swap !== undefined) {
    volumes.push({ name: 'swapdisk', emptyDir: { sizeLimit: String(swap) } });
    mounts.push({ name: 'swapdisk', mountPath: '/vm/mounts/swapdisk' });
  }
  for (const disk of vm.spec.disks ?? []) {
    const mount: V1VolumeMount = {
      name: disk.name,
      mountPath: `/vm/mounts${disk.mountPath}`,
      readOnly: disk.readOnly,
    };
    if (disk.configMap) {
      volumes.push({
        name: disk.name,
        configMap: { name: disk.configMap.name, items: disk.configMap.items },
      });
    } else if (disk.secret) {
      volumes.push({
        name: disk.name,
        secret: { secretName: disk.secret.secretName, items: disk.secret.items },
      });
    } else if (disk.emptyDisk) {
      volumes.push({ name: disk.name, emptyDir: { sizeLimit: String(disk.emptyDisk.size) } });
    } else {
      continue; // tmpfs lives inside the guest only
    }
    mounts.push(mount);
  }
  const tls = vm.spec.tls;
  if (tls && status.tlsSecretName) {
    volumes.push({ name: 'tls', secret: { secretName: status.tlsSecretName } });
    mounts.push({ name: 'tls', mountPath: `/vm/mounts${required(tls.mountPath, 'spec.tls.mountPath')}` });
  }
}

/** The migration stream's and its disks' container ports (pure); see `buildRunnerPod`. */
export function migrationPorts(guestPorts: readonly { readonly name?: string }[]): V1ContainerPort[] {
  const taken = new Set(guestPorts.map((p) => p.name));
  const port = (name: string, containerPort: number): V1ContainerPort => ({
    ...(taken.has(name) ? {} : { name }),
    containerPort,
    protocol: 'TCP',
  });
  return [port('migration', MIGRATION_PORT), port('migration-nbd', MIGRATION_DISK_PORT)];
}
