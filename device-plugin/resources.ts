/**
 * The resources the plugin offers: an extended resource name per host device node, and what to do
 * when the node is missing. Pure: parsing and validating `--device`/`--optional-device` values.
 */

/**
 * What the plugin advertises while the host lacks the device node:
 * - `required`: the devices are reported Unhealthy — the node's capacity keeps the resource and its
 *   allocatable drops to 0, so pods requesting it stay Pending (visible in `kubectl describe node`)
 *   until the node appears and they become Healthy again;
 * - `optional`: the devices stay Healthy and Allocate mounts nothing — for devices the workload uses
 *   when present and does without otherwise (the runner's vhost-net).
 */
export type MissingDevicePolicy = 'required' | 'optional';

export interface DeviceResource {
  /** Extended resource name, `<domain>/<name>`, e.g. `neonvm/kvm`. */
  readonly resourceName: string;
  /** The device node on the host (what the container runtime bind-creates), e.g. `/dev/kvm`. */
  readonly hostPath: string;
  /** Where it appears in the container (the same path). */
  readonly containerPath: string;
  readonly whenMissing: MissingDevicePolicy;
}

/**
 * NeonVM's devices (upstream's device plugin offers the same two names). `/dev/net/tun` is not among
 * them: runc allows `c 10:200 rwm` in every container's device cgroup (kept for compatibility, checked
 * in v1.5.3) and CAP_MKNOD is in containerd's default capability set, so the runner creates the node itself as upstream's does. vhost-net is
 * optional because our runner uses it only when present (user-space virtio-net otherwise); KVM is
 * required because a VM asking for acceleration should not land on a node that cannot give it.
 */
export const DEFAULT_RESOURCES: readonly DeviceResource[] = [
  { resourceName: 'neonvm/kvm', hostPath: '/dev/kvm', containerPath: '/dev/kvm', whenMissing: 'required' },
  {
    resourceName: 'neonvm/vhost-net',
    hostPath: '/dev/vhost-net',
    containerPath: '/dev/vhost-net',
    whenMissing: 'optional',
  },
];

// k8s.io/apimachinery validation: a DNS-1123 subdomain prefix and a qualified-name part.
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/**
 * Why `name` is not an extended resource name the kubelet accepts (`IsExtendedResourceName`), or
 * undefined when it is.
 */
export function extendedResourceNameProblem(name: string): string | undefined {
  const slash = name.indexOf('/');
  if (slash < 0 || slash !== name.lastIndexOf('/')) return 'must be <domain>/<name>, e.g. neonvm/kvm';
  const domain = name.slice(0, slash);
  const short = name.slice(slash + 1);
  // Quota names the resource `requests.<name>`, and that prefix must still be a DNS subdomain.
  if (`requests.${domain}`.length > 253 || !DNS1123_SUBDOMAIN.test(domain))
    return `domain '${domain}' must be a DNS subdomain (lower case letters, digits, '-' and '.') of at most 244 characters`;
  if (name.includes('kubernetes.io/')) return 'the kubernetes.io domain is reserved for native resources';
  if (short.length > 63 || !QUALIFIED_NAME.test(short))
    return `name '${short}' must be at most 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric`;
  return undefined;
}

/** Parses one `--device`/`--optional-device` value, `<resource>=<host path>`; throws naming the rule. */
export function parseDeviceResource(value: string, whenMissing: MissingDevicePolicy): DeviceResource {
  const flag = whenMissing === 'required' ? '--device' : '--optional-device';
  const eq = value.indexOf('=');
  if (eq < 0)
    throw new Error(`${flag} '${value}': expected <resource>=<host device path>, e.g. neonvm/kvm=/dev/kvm`);
  const resourceName = value.slice(0, eq);
  const hostPath = value.slice(eq + 1);
  const problem = extendedResourceNameProblem(resourceName);
  if (problem) throw new Error(`${flag} '${value}': resource name ${problem}`);
  if (!hostPath.startsWith('/') || hostPath.split('/').includes('..'))
    throw new Error(`${flag} '${value}': the device path must be absolute without '..', e.g. /dev/kvm`);
  return { resourceName, hostPath, containerPath: hostPath, whenMissing };
}

/** Each resource name once. */
export function checkUniqueResources(resources: readonly DeviceResource[]): void {
  const seen = new Set<string>();
  for (const r of resources) {
    if (seen.has(r.resourceName)) throw new Error(`resource ${r.resourceName} is configured twice`);
    seen.add(r.resourceName);
  }
}

/** The socket file of a resource's plugin: `neonvm-kvm-<8 hex>.sock` for `neonvm/kvm`. */
export function pluginSocketName(resourceName: string, suffix: string): string {
  if (!/^[0-9a-f]{8}$/.test(suffix)) throw new Error(`socket suffix '${suffix}' is not 8 hex digits`);
  return `${socketStem(resourceName)}-${suffix}.sock`;
}

/** Whether `fileName` is a socket pluginSocketName made for `resourceName`. */
export function isPluginSocketName(resourceName: string, fileName: string): boolean {
  const stem = socketStem(resourceName);
  return fileName.startsWith(`${stem}-`) && /^[0-9a-f]{8}\.sock$/.test(fileName.slice(stem.length + 1));
}

function socketStem(resourceName: string): string {
  return resourceName.replace(/[^A-Za-z0-9_.-]/g, '-');
}
