/**
 * The kubelet's side of the device plugin protocol for integration tests, over real gRPC on a real
 * kubelet.sock: Register is answered the way the kubelet's device manager does it (check the version,
 * dial the plugin's socket, GetDevicePluginOptions, then keep a ListAndWatch stream open and record
 * every list), and Allocate is called as the kubelet calls it while admitting a pod. `restart()` does
 * what a kubelet start does to the directory: remove every socket and serve a new kubelet.sock.
 * The test against a real kubelet is test/e2e/real-node.int.test.ts.
 */
import { readdir, rm, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  API_VERSION,
  KUBELET_SOCKET_NAME,
  addRegistrationService,
  callUnary,
  devicePluginClient,
  unixTarget,
  type AllocateResponse,
  type Device,
  type DevicePluginClient,
  type DevicePluginOptions,
  type RegisterRequest,
} from '../api';

export interface Registration {
  readonly request: RegisterRequest;
  readonly options: DevicePluginOptions;
  /** Every list the plugin streamed, oldest first. */
  readonly lists: Device[][];
  /** Set when the plugin's stream ended (its server stopped, or the plugin exited). */
  ended: boolean;
  readonly client: DevicePluginClient;
}

export class RegistrationRecorder {
  public readonly dir: string;
  public readonly registrations: Registration[] = [];
  private server?: grpc.Server;
  /** Register answers this error instead of connecting, while set. */
  public refuseWith?: string;

  public constructor(dir: string) {
    this.dir = dir;
  }

  public get socket(): string {
    return join(this.dir, KUBELET_SOCKET_NAME);
  }

  public async start(): Promise<void> {
    const server = new grpc.Server();
    addRegistrationService(server, {
      Register: (call, callback) => {
        this.connect(call.request).then(
          () => callback(null, {}),
          (err: Error) => callback({ code: grpc.status.UNKNOWN, details: err.message }),
        );
      },
    });
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(unixTarget(this.socket), grpc.ServerCredentials.createInsecure(), (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    this.server = server;
  }

  /** Stops serving kubelet.sock and drops the plugin connections (a kubelet that exited). */
  public stop(): void {
    this.server?.forceShutdown();
    this.server = undefined;
    for (const r of this.registrations) r.client.close();
  }

  /** A kubelet restart: stop, remove every socket in the directory, serve a new kubelet.sock. */
  public async restart(): Promise<void> {
    this.stop();
    for (const name of await readdir(this.dir)) {
      const path = join(this.dir, name);
      if ((await lstat(path)).isSocket()) await rm(path, { force: true });
    }
    await this.start();
  }

  /** The newest registration of a resource. */
  public latest(resourceName: string): Registration | undefined {
    return this.registrations.filter((r) => r.request.resourceName === resourceName).at(-1);
  }

  /** The newest list of a resource's newest registration. */
  public devices(resourceName: string): Device[] | undefined {
    return this.latest(resourceName)?.lists.at(-1);
  }

  public async allocate(resourceName: string, ids: readonly string[][]): Promise<AllocateResponse> {
    const r = this.latest(resourceName);
    if (!r) throw new Error(`${resourceName} never registered`);
    return callUnary(
      r.client.Allocate,
      r.client,
      { containerRequests: ids.map((devicesIds) => ({ devicesIds })) },
      5000,
    );
  }

  private async connect(request: RegisterRequest): Promise<void> {
    if (this.refuseWith) throw new Error(this.refuseWith);
    if (request.version !== API_VERSION) throw new Error(`unsupported version ${request.version}`);
    const client = devicePluginClient(join(this.dir, request.endpoint));
    const options = await callUnary(client.GetDevicePluginOptions, client, {}, 10_000);
    const registration: Registration = { request, options, lists: [], ended: false, client };
    this.registrations.push(registration);
    const stream = client.ListAndWatch({});
    stream.on('data', (res: { devices: Device[] }) => registration.lists.push(res.devices));
    stream.on('error', () => (registration.ended = true));
    stream.on('end', () => (registration.ended = true));
  }
}
