/** The NeonVM kinds as the generic custom-resource client addresses them. */
import { GROUP, IP_POOL, VERSION, VIRTUAL_MACHINE, VIRTUAL_MACHINE_MIGRATION, type KindInfo } from '../crds';
import type { ResourceId } from '../kube';

export const neonvmResource = (kind: KindInfo): ResourceId => ({
  group: GROUP,
  version: VERSION,
  plural: kind.plural,
  kind: kind.kind,
});

export const VM_RESOURCE = neonvmResource(VIRTUAL_MACHINE);
export const MIGRATION_RESOURCE = neonvmResource(VIRTUAL_MACHINE_MIGRATION);
export const IP_POOL_RESOURCE = neonvmResource(IP_POOL);
