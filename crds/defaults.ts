/**
 * Defaulting: pure, idempotent functions that fill in what the API server's structural defaulting
 * fills in (the `default` values of the CRD schema, which are the same objects as below) plus the
 * apiVersion/kind. Our mutating webhook, constructs, Pulumi components and the runner call these, so a
 * default is written once, in the schema.
 */
import { API_VERSION, IP_POOL, VIRTUAL_MACHINE, VIRTUAL_MACHINE_MIGRATION, type KindInfo } from './kinds';
import { applyDefaults, canonicalizeEncodings, plainSchema, type JsonSchema } from './schema-walk';
import type { VirtualMachine } from './schema/virtual-machine';
import type { VirtualMachineMigration } from './schema/virtual-machine-migration';
import type { IpPool } from './schema/ip-pool';

const plainSchemas = new Map<KindInfo, JsonSchema>();
/** The JSON schema of a kind, converted once. */
export function kindJsonSchema(info: KindInfo): JsonSchema {
  let s = plainSchemas.get(info);
  if (!s) {
    s = plainSchema(info.schema);
    plainSchemas.set(info, s);
  }
  return s;
}

function withTypeMeta<T>(info: KindInfo, obj: T): T {
  const o = obj as Record<string, unknown>;
  return { apiVersion: o.apiVersion ?? API_VERSION, kind: o.kind ?? info.kind, ...o } as T;
}

function defaultKind<T>(info: KindInfo, obj: T): T {
  return withTypeMeta(info, applyDefaults(kindJsonSchema(info), obj) as T);
}

export function defaultVirtualMachine(vm: VirtualMachine): VirtualMachine {
  return defaultKind(VIRTUAL_MACHINE, vm);
}

export function defaultVirtualMachineMigration(m: VirtualMachineMigration): VirtualMachineMigration {
  return defaultKind(VIRTUAL_MACHINE_MIGRATION, m);
}

export function defaultIpPool(p: IpPool): IpPool {
  return defaultKind(IP_POOL, p);
}

/**
 * Rewrites MilliCPU and Quantity fields into the form upstream's Go types write (`0.25` → `"250m"`,
 * `"2"` → `2`, `1024Mi` → `1Gi`). Our mutating webhook applies it, so a float such as `cpus.use: 0.25`
 * sent by kubectl is accepted (the structural schema alone would reject a non-integer number).
 */
export function canonicalizeVirtualMachine(vm: VirtualMachine): VirtualMachine {
  return canonicalizeEncodings(kindJsonSchema(VIRTUAL_MACHINE), vm) as VirtualMachine;
}

export function canonicalizeVirtualMachineMigration(m: VirtualMachineMigration): VirtualMachineMigration {
  return canonicalizeEncodings(kindJsonSchema(VIRTUAL_MACHINE_MIGRATION), m) as VirtualMachineMigration;
}
