/**
 * The Allocate answer, pure: which device node the container runtime creates in each container. The
 * kubelet calls Allocate while admitting a pod; an error fails the pod (UnexpectedAdmissionError),
 * which is right for a required device that vanished after scheduling and wrong for an optional one.
 */
import type {
  AllocateRequest,
  AllocateResponse,
  ContainerAllocateResponse,
  DeviceSpec,
  PreferredAllocationRequest,
  PreferredAllocationResponse,
} from './api';
import type { DeviceResource } from './resources';

/** A gRPC status name and message for a refused request. */
export interface AllocateRefusal {
  readonly code: 'INVALID_ARGUMENT' | 'FAILED_PRECONDITION';
  readonly message: string;
}

export type AllocateOutcome =
  | { readonly ok: true; readonly response: AllocateResponse }
  | { readonly ok: false; readonly refusal: AllocateRefusal };

/** Read and write, no mknod: the runtime creates the node, the container only opens it. */
export const DEVICE_PERMISSIONS = 'rw';

export function deviceSpec(resource: DeviceResource): DeviceSpec {
  return {
    hostPath: resource.hostPath,
    containerPath: resource.containerPath,
    permissions: DEVICE_PERMISSIONS,
  };
}

export function allocate(
  resource: DeviceResource,
  knownIds: ReadonlySet<string>,
  request: AllocateRequest,
  present: boolean,
): AllocateOutcome {
  for (const c of request.containerRequests) {
    const unknown = c.devicesIds.filter((id) => !knownIds.has(id));
    if (unknown.length > 0)
      return {
        ok: false,
        refusal: {
          code: 'INVALID_ARGUMENT',
          message: `${resource.resourceName}: unknown device IDs ${unknown.join(', ')}`,
        },
      };
  }
  if (!present && resource.whenMissing === 'required')
    return {
      ok: false,
      refusal: {
        code: 'FAILED_PRECONDITION',
        message: `${resource.resourceName}: the host has no ${resource.hostPath}`,
      },
    };
  const containerResponses = request.containerRequests.map((): ContainerAllocateResponse => ({
    envs: {},
    mounts: [],
    // Several IDs of one resource in a container still mean one device node.
    devices: present ? [deviceSpec(resource)] : [],
    annotations: {},
    cdiDevices: [],
  }));
  return { ok: true, response: { containerResponses } };
}

/**
 * GetPreferredAllocation, which the plugin does not advertise (every device is the same node): the
 * IDs that must be included, then the first available ones, up to the size asked for.
 */
export function preferredAllocation(request: PreferredAllocationRequest): PreferredAllocationResponse {
  return {
    containerResponses: request.containerRequests.map((c) => {
      const must = new Set(c.mustIncludeDeviceIDs);
      const rest = c.availableDeviceIDs.filter((id) => !must.has(id));
      return { deviceIDs: [...must, ...rest].slice(0, Math.max(c.allocationSize, must.size)) };
    }),
  };
}
