/**
 * One resource's DevicePlugin gRPC server on its unix socket: ListAndWatch streams the device list
 * (again whenever the host device node appears or disappears), Allocate answers from `allocate()`.
 * A server is bound to one socket for its life; re-registration binds a fresh one (see daemon.ts).
 */
import { rm } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import {
  addDevicePluginService,
  unixTarget,
  type DevicePluginHandlers,
  type Empty,
  type ListAndWatchResponse,
} from './api';
import { allocate, preferredAllocation } from './allocate';
import { deviceIds, deviceHealth, listDevices } from './devices';
import type { DeviceResource } from './resources';

type WatchStream = grpc.ServerWritableStream<Empty, ListAndWatchResponse>;

export class ResourcePlugin {
  public readonly resource: DeviceResource;
  private readonly count: number;
  private readonly ids: ReadonlySet<string>;
  private readonly log: Logger;
  private present = false;
  /** Whether setPresent has run: the first state is logged whatever it is. */
  private known = false;
  private server?: grpc.Server;
  private socketPath?: string;
  private readonly streams = new Set<WatchStream>();

  public constructor(resource: DeviceResource, count: number, log: Logger) {
    this.resource = resource;
    this.count = count;
    this.ids = new Set(deviceIds(resource.resourceName, count));
    this.log = log.child({ resource: resource.resourceName });
  }

  /** The socket currently served, if any. */
  public get socket(): string | undefined {
    return this.socketPath;
  }

  public get devicePresent(): boolean {
    return this.present;
  }

  public get health(): string {
    return deviceHealth(this.resource, this.present);
  }

  /** Open ListAndWatch streams (the kubelet holds one per registration). */
  public get watchers(): number {
    return this.streams.size;
  }

  /** Records whether the host has the device node; a change is streamed to every watcher. */
  public setPresent(present: boolean): void {
    if (present === this.present && this.known) return;
    const changed = present !== this.present;
    this.present = present;
    this.known = true;
    this.log.info(
      {
        hostPath: this.resource.hostPath,
        present,
        whenMissing: this.resource.whenMissing,
        health: this.health,
      },
      present ? 'device node present' : 'device node missing',
    );
    if (!changed) return;
    const update = this.list();
    for (const s of this.streams) s.write(update);
  }

  /** Stops any previous server, then serves on `socketPath` (a stale file there is removed first). */
  public async serve(socketPath: string): Promise<void> {
    await this.stop();
    await rm(socketPath, { force: true });
    const server = new grpc.Server();
    addDevicePluginService(server, this.handlers());
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(unixTarget(socketPath), grpc.ServerCredentials.createInsecure(), (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    this.server = server;
    this.socketPath = socketPath;
    this.log.info({ socket: socketPath }, 'serving');
  }

  /** Ends the watch streams and the server; the socket file goes with it. */
  public async stop(): Promise<void> {
    const server = this.server;
    const socketPath = this.socketPath;
    this.server = undefined;
    this.socketPath = undefined;
    for (const s of this.streams) s.end();
    this.streams.clear();
    if (!server || !socketPath) return;
    server.forceShutdown();
    // Closing a listening unix socket unlinks it; this covers a server that never got that far.
    await rm(socketPath, { force: true });
  }

  private list(): ListAndWatchResponse {
    return { devices: listDevices(this.resource, this.count, this.present) };
  }

  private handlers(): DevicePluginHandlers {
    return {
      GetDevicePluginOptions: (_call, callback) =>
        callback(null, { preStartRequired: false, getPreferredAllocationAvailable: false }),
      ListAndWatch: (call) => {
        this.streams.add(call);
        const forget = () => this.streams.delete(call);
        call.on('cancelled', forget);
        call.on('close', forget);
        call.on('error', forget);
        call.write(this.list());
      },
      GetPreferredAllocation: (call, callback) => callback(null, preferredAllocation(call.request)),
      Allocate: (call, callback) => {
        const outcome = allocate(this.resource, this.ids, call.request, this.present);
        if (!outcome.ok) {
          this.log.warn({ reason: outcome.refusal.message }, 'allocate refused');
          callback({ code: grpc.status[outcome.refusal.code], details: outcome.refusal.message });
          return;
        }
        this.log.info(
          {
            containers: call.request.containerRequests.map((c) => c.devicesIds.length),
            mounted: this.present,
          },
          'allocated',
        );
        callback(null, outcome.response);
      },
      PreStartContainer: (_call, callback) => callback(null, {}),
    };
  }
}
