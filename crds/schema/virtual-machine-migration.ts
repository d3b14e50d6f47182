/** VirtualMachineMigration (vm.neon.tech/v1), as upstream declares it. */
import { Type, type Static } from '@sinclair/typebox';
import type { NodeAffinity as V1NodeAffinity } from 'kubernetes-types/core/v1';
import {
  Conditions,
  Embedded,
  Int32,
  Int64,
  QuantitySchema,
  StringEnum,
  StringMap,
  TypeMeta,
} from './common';

export const MIGRATION_PHASES = ['Pending', 'Running', 'Succeeded', 'Failed'] as const;

export const VirtualMachineMigrationSpecSchema = Type.Object(
  {
    vmName: Type.String({ minLength: 1, description: 'VirtualMachine to migrate (same namespace).' }),
    nodeSelector: Type.Optional(StringMap({ description: 'Constrains the target node.' })),
    nodeAffinity: Type.Optional(
      Embedded<V1NodeAffinity>('Constrains the target node (core/v1 NodeAffinity).'),
    ),
    preventMigrationToSameHost: Type.Optional(Type.Boolean({ default: true })),
    completionTimeout: Type.Optional(
      Int32({
        default: 3600,
        minimum: 1,
        description: 'Seconds before an unfinished migration is cancelled.',
      }),
    ),
    incremental: Type.Optional(Type.Boolean({ default: true })),
    allowPostCopy: Type.Optional(Type.Boolean({ default: false })),
    autoConverge: Type.Optional(Type.Boolean({ default: true })),
    maxBandwidth: Type.Optional(QuantitySchema({ default: '1Gi', description: 'Bytes per second.' })),
  },
  { description: 'VirtualMachineMigrationSpec defines the desired state of a migration.' },
);

export const MigrationInfoSchema = Type.Object({
  status: Type.Optional(
    Type.String({ description: 'QEMU migration status (active, completed, failed, ...).' }),
  ),
  totalTimeMs: Type.Optional(Int64()),
  setupTimeMs: Type.Optional(Int64()),
  downtimeMs: Type.Optional(Int64()),
  ram: Type.Optional(
    Type.Object({
      transferred: Type.Optional(Int64()),
      remaining: Type.Optional(Int64()),
      total: Type.Optional(Int64()),
    }),
  ),
  compression: Type.Optional(
    Type.Object({
      compressedSize: Type.Optional(Int64()),
      compressionRate: Type.Optional(Int64()),
    }),
  ),
  disk: Type.Optional(
    Type.Object(
      {
        transferred: Type.Optional(Int64()),
        remaining: Type.Optional(Int64()),
        total: Type.Optional(Int64()),
      },
      {
        description:
          "The writable disks' copy in bytes: block migration's figures (QEMU before 9.1), or the NBD mirrors' first pass, which precedes the RAM stream (QEMU 9.1 and later).",
      },
    ),
  ),
});

export const VirtualMachineMigrationStatusSchema = Type.Object({
  conditions: Type.Optional(Conditions),
  phase: Type.Optional(StringEnum(['', ...MIGRATION_PHASES] as const)),
  sourcePodName: Type.Optional(Type.String()),
  targetPodName: Type.Optional(Type.String()),
  sourcePodIP: Type.Optional(Type.String()),
  targetPodIP: Type.Optional(Type.String()),
  sourceNode: Type.Optional(Type.String()),
  targetNode: Type.Optional(Type.String()),
  info: Type.Optional(MigrationInfoSchema),
});

export const VirtualMachineMigrationSchema = Type.Object(
  {
    ...TypeMeta,
    spec: VirtualMachineMigrationSpecSchema,
    status: Type.Optional(VirtualMachineMigrationStatusSchema),
  },
  { description: 'VirtualMachineMigration is the Schema for the virtualmachinemigrations API.' },
);

export type VirtualMachineMigrationSpec = Static<typeof VirtualMachineMigrationSpecSchema>;
export type VirtualMachineMigrationStatus = Static<typeof VirtualMachineMigrationStatusSchema>;
export type VirtualMachineMigration = Static<typeof VirtualMachineMigrationSchema>;
export type MigrationInfo = Static<typeof MigrationInfoSchema>;
export type MigrationPhase = (typeof MIGRATION_PHASES)[number];
