/**
 * Third-party kinds that NeonVM installs or emits, typed so constructs and the operator build them
 * without untyped objects: Multus NetworkAttachmentDefinition (k8s.cni.cncf.io/v1) and Whereabouts
 * IPPool / OverlappingRangeIPReservation (whereabouts.cni.cncf.io/v1alpha1). Their CRDs are owned by
 * those projects; we only describe the shapes we read and write.
 */
import { Type, type Static } from '@sinclair/typebox';
import { MapOf, TypeMeta } from './common';

export const NetworkAttachmentDefinitionSchema = Type.Object({
  ...TypeMeta,
  spec: Type.Optional(
    Type.Object({
      config: Type.Optional(Type.String({ description: 'CNI configuration as a JSON string.' })),
    }),
  ),
});

export const WhereaboutsIpPoolSchema = Type.Object({
  ...TypeMeta,
  spec: Type.Object({
    range: Type.String(),
    allocations: MapOf(
      Type.Object({
        id: Type.String(),
        podref: Type.Optional(Type.String()),
        ifname: Type.Optional(Type.String()),
      }),
    ),
  }),
});

export const OverlappingRangeIpReservationSchema = Type.Object({
  ...TypeMeta,
  spec: Type.Object({
    containerid: Type.Optional(Type.String()),
    ifname: Type.Optional(Type.String()),
    podref: Type.String(),
  }),
});

export type NetworkAttachmentDefinition = Static<typeof NetworkAttachmentDefinitionSchema>;
export type WhereaboutsIpPool = Static<typeof WhereaboutsIpPoolSchema>;
export type OverlappingRangeIpReservation = Static<typeof OverlappingRangeIpReservationSchema>;

/** Whereabouts IPAM settings inside a CNI config (the subset NeonVM reads and writes). */
export interface WhereaboutsIpamConfig {
  type?: 'whereabouts';
  range?: string;
  range_start?: string;
  range_end?: string;
  exclude?: string[];
  ipRanges?: Array<{ range: string; range_start?: string; range_end?: string; exclude?: string[] }>;
  network_name?: string;
  routes?: Array<{ dst: string; gw?: string }>;
}

/** A CNI network configuration as carried in `NetworkAttachmentDefinition.spec.config`. */
export interface CniConfig {
  cniVersion?: string;
  name?: string;
  type?: string;
  bridge?: string;
  ipam?: WhereaboutsIpamConfig | Record<string, never>;
  [key: string]: unknown;
}
