/**
 * The kubelet device plugin API v1beta1 as TypeScript: the messages of the vendored `v1beta1/api.proto`
 * in the shape @grpc/proto-loader decodes them (camelCase fields, defaults filled in), and the API's
 * constants (k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1/constants.go). Written by hand rather than
 * generated: fifteen small messages, and the integration test runs them through the real proto.
 */

/** `Version`: the API version plugins register with. */
export const API_VERSION = 'v1beta1';
/** `DevicePluginPath`: where the kubelet expects plugin sockets (only privileged pods can reach it). */
export const DEVICE_PLUGIN_DIR = '/var/lib/kubelet/device-plugins';
/** `KubeletSocket`'s file name inside DEVICE_PLUGIN_DIR. */
export const KUBELET_SOCKET_NAME = 'kubelet.sock';

export const HEALTHY = 'Healthy';
export const UNHEALTHY = 'Unhealthy';
export type DeviceHealth = typeof HEALTHY | typeof UNHEALTHY;

export type Empty = Record<string, never>;

export interface DevicePluginOptions {
  readonly preStartRequired: boolean;
  readonly getPreferredAllocationAvailable: boolean;
}

export interface RegisterRequest {
  readonly version: string;
  /** Socket file name relative to the plugin directory. */
  readonly endpoint: string;
  readonly resourceName: string;
  readonly options?: DevicePluginOptions;
}

export interface NumaNode {
  /** int64, decoded as a decimal string. */
  readonly ID: string;
}

export interface Device {
  /** At most 63 characters. */
  readonly ID: string;
  readonly health: DeviceHealth;
  readonly topology?: { readonly nodes: readonly NumaNode[] } | null;
}

export interface ListAndWatchResponse {
  readonly devices: readonly Device[];
}

export interface ContainerAllocateRequest {
  readonly devicesIds: readonly string[];
}

export interface AllocateRequest {
  readonly containerRequests: readonly ContainerAllocateRequest[];
}

export interface DeviceSpec {
  readonly containerPath: string;
  readonly hostPath: string;
  /** cgroup device permissions: some of r, w, m. */
  readonly permissions: string;
}

export interface Mount {
  readonly containerPath: string;
  readonly hostPath: string;
  readonly readOnly: boolean;
}

export interface ContainerAllocateResponse {
  readonly envs: Readonly<Record<string, string>>;
  readonly mounts: readonly Mount[];
  readonly devices: readonly DeviceSpec[];
  readonly annotations: Readonly<Record<string, string>>;
  readonly cdiDevices: readonly { readonly name: string }[];
}

export interface AllocateResponse {
  readonly containerResponses: readonly ContainerAllocateResponse[];
}

export interface ContainerPreferredAllocationRequest {
  readonly availableDeviceIDs: readonly string[];
  readonly mustIncludeDeviceIDs: readonly string[];
  readonly allocationSize: number;
}

export interface PreferredAllocationRequest {
  readonly containerRequests: readonly ContainerPreferredAllocationRequest[];
}

export interface PreferredAllocationResponse {
  readonly containerResponses: readonly { readonly deviceIDs: readonly string[] }[];
}

export interface PreStartContainerRequest {
  readonly devicesIds: readonly string[];
}

export type PreStartContainerResponse = Empty;
