/**
 * The two gRPC services of the vendored api.proto, loaded with @grpc/proto-loader: `DevicePlugin`
 * (served by a plugin, called by the kubelet) and `Registration` (served by the kubelet on
 * kubelet.sock). Typed server handlers and clients for both sides, so the plugin and the tests that
 * play the kubelet use the same definitions.
 */
import * as grpc from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { packagePath } from '../../host';
import type {
  AllocateRequest,
  AllocateResponse,
  DevicePluginOptions,
  Empty,
  ListAndWatchResponse,
  PreStartContainerRequest,
  PreStartContainerResponse,
  PreferredAllocationRequest,
  PreferredAllocationResponse,
  RegisterRequest,
} from './kubelet-api';

/** Where api.proto ships: next to the sources, and at /app/device-plugin/api in the release image. */
export const API_PROTO = 'device-plugin/api/v1beta1/api.proto';

let loaded: PackageDefinition | undefined;

function definition(): PackageDefinition {
  loaded ??= loadSync(packagePath(__dirname, API_PROTO), {
    // camelCase fields, int64 as strings, absent fields as their defaults (empty lists and maps).
    keepCase: false,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return loaded;
}

function service(name: 'DevicePlugin' | 'Registration'): grpc.ServiceDefinition {
  return definition()[`v1beta1.${name}`] as grpc.ServiceDefinition;
}

/** What a device plugin serves; the method names are the proto's. */
export interface DevicePluginHandlers extends grpc.UntypedServiceImplementation {
  GetDevicePluginOptions: grpc.handleUnaryCall<Empty, DevicePluginOptions>;
  ListAndWatch: grpc.handleServerStreamingCall<Empty, ListAndWatchResponse>;
  GetPreferredAllocation: grpc.handleUnaryCall<PreferredAllocationRequest, PreferredAllocationResponse>;
  Allocate: grpc.handleUnaryCall<AllocateRequest, AllocateResponse>;
  PreStartContainer: grpc.handleUnaryCall<PreStartContainerRequest, PreStartContainerResponse>;
}

/** What the kubelet serves on kubelet.sock. */
export interface RegistrationHandlers extends grpc.UntypedServiceImplementation {
  Register: grpc.handleUnaryCall<RegisterRequest, Empty>;
}

export function addDevicePluginService(server: grpc.Server, handlers: DevicePluginHandlers): void {
  server.addService(service('DevicePlugin'), handlers);
}

export function addRegistrationService(server: grpc.Server, handlers: RegistrationHandlers): void {
  server.addService(service('Registration'), handlers);
}

type Unary<Req, Res> = (
  request: Req,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response: Res) => void,
) => grpc.ClientUnaryCall;

/** A client of a plugin's DevicePlugin service (the kubelet's side). */
export interface DevicePluginClient extends grpc.Client {
  GetDevicePluginOptions: Unary<Empty, DevicePluginOptions>;
  ListAndWatch(request: Empty, options?: grpc.CallOptions): grpc.ClientReadableStream<ListAndWatchResponse>;
  GetPreferredAllocation: Unary<PreferredAllocationRequest, PreferredAllocationResponse>;
  Allocate: Unary<AllocateRequest, AllocateResponse>;
  PreStartContainer: Unary<PreStartContainerRequest, PreStartContainerResponse>;
}

/** A client of the kubelet's Registration service (the plugin's side). */
export interface RegistrationClient extends grpc.Client {
  Register: Unary<RegisterRequest, Empty>;
}

/** gRPC target of a unix socket path. */
export function unixTarget(socketPath: string): string {
  return `unix://${socketPath}`;
}

export function devicePluginClient(socketPath: string): DevicePluginClient {
  const Client = grpc.makeClientConstructor(service('DevicePlugin'), 'v1beta1.DevicePlugin');
  return new Client(
    unixTarget(socketPath),
    grpc.credentials.createInsecure(),
  ) as unknown as DevicePluginClient;
}

export function registrationClient(socketPath: string): RegistrationClient {
  const Client = grpc.makeClientConstructor(service('Registration'), 'v1beta1.Registration');
  return new Client(
    unixTarget(socketPath),
    grpc.credentials.createInsecure(),
  ) as unknown as RegistrationClient;
}

/** A unary call as a promise, with a deadline. */
export function callUnary<Req, Res>(
  method: Unary<Req, Res>,
  self: grpc.Client,
  request: Req,
  timeoutMs: number,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(self, request, { deadline: Date.now() + timeoutMs }, (err, res) =>
      err ? reject(err) : resolve(res),
    );
  });
}
