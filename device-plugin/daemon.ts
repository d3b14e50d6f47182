/**
 * The plugin process: one ResourcePlugin per configured resource, each registered with the kubelet,
 * kept registered across kubelet restarts. A check runs on every event in the plugin directory and
 * every poll interval:
 * - device nodes are looked up under the host root; a change is streamed to the kubelet;
 * - a plugin is (re-)registered, on a fresh socket, when the kubelet's socket is new (a restarted
 *   kubelet has forgotten every plugin and removed their sockets) or when its own socket is gone.
 * A fresh socket per registration, because the kubelet refuses a second registration of a socket path
 * it still holds ("device plugin already connected") and forgets a path when its old stream ends.
 */
import { randomBytes } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { DevicePluginConfig } from './config';
import { isCharacterDevice, isListening, socketIdentity } from './host-devices';
import { registerWithKubelet } from './registration';
import { ResourcePlugin } from './resource-plugin';
import { isPluginSocketName, pluginSocketName } from './resources';

export interface ResourceStatus {
  readonly resourceName: string;
  readonly hostPath: string;
  readonly devicePresent: boolean;
  readonly health: string;
  readonly socket?: string;
  readonly registered: boolean;
  readonly watchers: number;
  readonly lastError?: string;
}

export interface DaemonStatus {
  /** Every resource is registered with the kubelet that serves kubelet.sock now. */
  readonly ready: boolean;
  readonly kubeletSocket: string;
  readonly resources: readonly ResourceStatus[];
}

interface Entry {
  readonly plugin: ResourcePlugin;
  /** kubelet.sock identity this plugin registered with. */
  registeredWith?: string;
  lastError?: string;
}

export class DevicePluginDaemon {
  private readonly config: DevicePluginConfig;
  private readonly log: Logger;
  private readonly entries: Entry[];
  private kubeletId?: string;
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;

  public constructor(config: DevicePluginConfig, log: Logger) {
    this.config = config;
    this.log = log;
    this.entries = config.resources.map((r) => ({
      plugin: new ResourcePlugin(r, config.devicesPerResource, log),
    }));
  }

  /** Runs the first check to completion, then keeps watching. */
  public async start(): Promise<void> {
    this.log.info(
      {
        pluginDir: this.config.pluginDir,
        kubeletSocket: this.config.kubeletSocket,
        resources: this.config.resources.map((r) => `${r.resourceName}=${r.hostPath} (${r.whenMissing})`),
        devicesPerResource: this.config.devicesPerResource,
      },
      'starting',
    );
    await this.removeStaleSockets();
    this.requestCheck();
    await this.settled();
    this.timer = setInterval(() => this.requestCheck(), this.config.pollIntervalMs);
  }

  /** Ends the watch, the servers and their sockets. */
  public async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
    await this.running;
    await Promise.all(this.entries.map((e) => e.plugin.stop()));
    this.log.info('stopped');
  }

  public status(): DaemonStatus {
    const resources = this.entries.map((e): ResourceStatus => ({
      resourceName: e.plugin.resource.resourceName,
      hostPath: e.plugin.resource.hostPath,
      devicePresent: e.plugin.devicePresent,
      health: e.plugin.health,
      socket: e.plugin.socket,
      registered: this.kubeletId !== undefined && e.registeredWith === this.kubeletId,
      watchers: e.plugin.watchers,
      ...(e.lastError ? { lastError: e.lastError } : {}),
    }));
    return {
      ready: resources.every((r) => r.registered),
      kubeletSocket: this.config.kubeletSocket,
      resources,
    };
  }

  /** Resolves once no check is running or queued (tests, start). */
  public async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Coalesces requests: one check at a time, and one more if events came in meanwhile. */
  private requestCheck(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.check()
      .catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'check failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.requestCheck();
        }
      });
  }

  /**
   * Sockets of an earlier run that died without closing them (SIGKILL, OOM): nothing listens on them
   * any more. A live socket of another instance is left alone.
   */
  private async removeStaleSockets(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.config.pluginDir);
    } catch {
      return;
    }
    for (const name of names) {
      if (!this.entries.some((e) => isPluginSocketName(e.plugin.resource.resourceName, name))) continue;
      const path = join(this.config.pluginDir, name);
      if (await isListening(path)) continue;
      await rm(path, { force: true });
      this.log.info({ socket: path }, 'removed a stale socket of an earlier run');
    }
  }

  private ensureWatcher(): void {
    if (this.watcher || this.stopped) return;
    try {
      const w = watch(this.config.pluginDir, () => this.requestCheck());
      w.on('error', () => {
        // The directory went away (kubelet reinstall); the next poll watches it again.
        w.close();
        if (this.watcher === w) this.watcher = undefined;
      });
      this.watcher = w;
    } catch {
      // Not there yet: the kubelet creates it; the poll retries.
    }
  }

  private async check(): Promise<void> {
    this.ensureWatcher();
    for (const e of this.entries) {
      const r = e.plugin.resource;
      e.plugin.setPresent(await isCharacterDevice(join(this.config.hostRoot, r.hostPath)));
    }
    const kubeletId = await socketIdentity(this.config.kubeletSocket);
    if (kubeletId !== this.kubeletId) {
      this.log.info(
        { kubeletSocket: this.config.kubeletSocket, present: kubeletId !== undefined },
        kubeletId ? 'kubelet socket found' : 'waiting for the kubelet socket',
      );
      this.kubeletId = kubeletId;
    }
    if (!kubeletId) return;
    for (const e of this.entries) {
      if (this.stopped) return;
      const socket = e.plugin.socket;
      const socketAlive = socket !== undefined && (await socketIdentity(socket)) !== undefined;
      if (e.registeredWith === kubeletId && socketAlive) continue;
      const why =
        e.registeredWith === undefined ? 'registering'
        : e.registeredWith !== kubeletId ? 'kubelet restarted: registering again'
        : 'plugin socket removed: registering again'; // prettier-ignore
      await this.register(e, kubeletId, why);
    }
  }

  private async register(e: Entry, kubeletId: string, why: string): Promise<void> {
    const name = e.plugin.resource.resourceName;
    const socket = join(this.config.pluginDir, pluginSocketName(name, randomBytes(4).toString('hex')));
    e.registeredWith = undefined;
    try {
      await e.plugin.serve(socket);
      await registerWithKubelet(this.config.kubeletSocket, name, socket);
      e.registeredWith = kubeletId;
      e.lastError = undefined;
      this.log.info({ resource: name, socket, reason: why }, 'registered with the kubelet');
    } catch (err) {
      const message = (err as Error).message;
      // Logged when it changes, not on every poll while the kubelet is down.
      if (message !== e.lastError)
        this.log.warn({ resource: name, err: message }, 'registration failed; retrying');
      e.lastError = message;
      await e.plugin.stop();
    }
  }
}
