/**
 * The devices a resource advertises, as a pure function of the configuration and whether the host
 * has the device node. One device node is shared by any number of containers (/dev/kvm and
 * /dev/vhost-net are opened per VM), so a resource is `count` virtual devices with stable IDs.
 */
import { HEALTHY, UNHEALTHY, type Device, type DeviceHealth } from './api';
import type { DeviceResource } from './resources';

/** Device IDs are at most 63 characters (api.proto). */
const MAX_ID = 63;

/** `kvm-0` … `kvm-<count-1>` for `neonvm/kvm`. */
export function deviceIds(resourceName: string, count: number): string[] {
  const suffixLength = String(Math.max(0, count - 1)).length + 1;
  const stem = resourceName.slice(resourceName.indexOf('/') + 1).slice(0, MAX_ID - suffixLength);
  return Array.from({ length: count }, (_, i) => `${stem}-${i}`);
}

export function deviceHealth(resource: DeviceResource, present: boolean): DeviceHealth {
  return present || resource.whenMissing === 'optional' ? HEALTHY : UNHEALTHY;
}

/** The ListAndWatch list: every ID, all with the same health. */
export function listDevices(resource: DeviceResource, count: number, present: boolean): Device[] {
  const health = deviceHealth(resource, present);
  return deviceIds(resource.resourceName, count).map((ID) => ({ ID, health }));
}
