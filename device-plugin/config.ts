/** Command line of `neonvm-device-plugin`, parsed into one typed configuration (pure, tested). */
import { isAbsolute, join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { DEVICE_PLUGIN_DIR, KUBELET_SOCKET_NAME } from './api';
import {
  DEFAULT_RESOURCES,
  checkUniqueResources,
  parseDeviceResource,
  type DeviceResource,
} from './resources';

export interface DevicePluginConfig {
  /** The kubelet's device plugin directory; the plugin's sockets go here. */
  readonly pluginDir: string;
  /** The kubelet's Registration socket. */
  readonly kubeletSocket: string;
  readonly resources: readonly DeviceResource[];
  /** Virtual devices per resource: how many containers of one node may hold it at once. */
  readonly devicesPerResource: number;
  /** Where the host's filesystem is seen (device nodes are looked up below it). */
  readonly hostRoot: string;
  /** How often device nodes and sockets are checked besides directory events. */
  readonly pollIntervalMs: number;
  /** /healthz and /readyz port; undefined: no health server. */
  readonly healthPort?: number;
  readonly logLevel: string;
}

/** Upstream's generic device plugin offers 1000 of each; the kubelet keeps the list in its checkpoint. */
export const DEFAULT_DEVICES_PER_RESOURCE = 1000;
const MAX_DEVICES_PER_RESOURCE = 100_000;

function intIn(min: number, max: number): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`'${text}' must be an integer from ${min} to ${max}`);
    return n;
  };
}

function positiveSeconds(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`'${text}' must be a positive number`);
  return n;
}

function absolutePath(text: string): string {
  if (!isAbsolute(text)) throw new InvalidArgumentError(`'${text}' must be an absolute path`);
  return text;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function devicePluginCommand(): Command {
  return new Command('neonvm-device-plugin')
    .description(
      'Kubelet device plugin (API v1beta1): offers host device nodes (/dev/kvm, /dev/vhost-net) to containers as extended resources',
    )
    .option(
      '--device-plugin-dir <dir>',
      'the kubelet device plugin directory',
      absolutePath,
      DEVICE_PLUGIN_DIR,
    )
    .option(
      '--kubelet-socket <path>',
      `the kubelet Registration socket (default <dir>/${KUBELET_SOCKET_NAME})`,
      absolutePath,
    )
    .option(
      '--device <resource=path>',
      'offer a device node; while it is missing the devices are Unhealthy (repeatable; default neonvm/kvm=/dev/kvm plus the optional neonvm/vhost-net)',
      collect,
      [],
    )
    .option(
      '--optional-device <resource=path>',
      'offer a device node that containers may lack: always Healthy, mounted only when present (repeatable)',
      collect,
      [],
    )
    .option(
      '--devices-per-resource <n>',
      'virtual devices per resource (containers per node that may use it at once)',
      intIn(1, MAX_DEVICES_PER_RESOURCE),
      DEFAULT_DEVICES_PER_RESOURCE,
    )
    .option(
      '--host-root <dir>',
      "where the host's filesystem is mounted (device nodes are checked below it)",
      absolutePath,
      '/',
    )
    .option('--poll-interval <seconds>', 'device node and socket check period', positiveSeconds, 5)
    .option('--health-port <port>', '/healthz and /readyz port (0 disables)', intIn(0, 65535), 8081)
    .option('--log-level <level>', 'pino log level', 'info');
}

export function parseDevicePluginConfig(argv: readonly string[]): DevicePluginConfig {
  // main() prints the error once; commander would print it too.
  const cmd = devicePluginCommand()
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
  cmd.parse([...argv], { from: 'user' });
  const o = cmd.opts<{
    devicePluginDir: string;
    kubeletSocket?: string;
    device: string[];
    optionalDevice: string[];
    devicesPerResource: number;
    hostRoot: string;
    pollInterval: number;
    healthPort: number;
    logLevel: string;
  }>();
  const configured = [
    ...o.device.map((d) => parseDeviceResource(d, 'required')),
    ...o.optionalDevice.map((d) => parseDeviceResource(d, 'optional')),
  ];
  const resources = configured.length > 0 ? configured : DEFAULT_RESOURCES;
  checkUniqueResources(resources);
  return {
    pluginDir: o.devicePluginDir,
    kubeletSocket: o.kubeletSocket ?? join(o.devicePluginDir, KUBELET_SOCKET_NAME),
    resources,
    devicesPerResource: o.devicesPerResource,
    hostRoot: o.hostRoot,
    pollIntervalMs: Math.round(o.pollInterval * 1000),
    healthPort: o.healthPort === 0 ? undefined : o.healthPort,
    logLevel: o.logLevel,
  };
}
