/** IPPool (vm.neon.tech/v1): overlay address allocations keyed by offset from the range start. */
import { Type, type Static } from '@sinclair/typebox';
import { MapOf, TypeMeta } from './common';

export const IpAllocationSchema = Type.Object({
  id: Type.String({ description: 'Owner of the address: <vmNamespace>/<vmName>.' }),
  podref: Type.Optional(Type.String()),
});

export const IpPoolSpecSchema = Type.Object({
  range: Type.String({ description: 'The pool range as a CIDR, e.g. 10.100.0.0/16.' }),
  allocations: MapOf(IpAllocationSchema, {
    description: 'Reservations keyed by the decimal offset of the address from the start of range.',
  }),
});

export const IpPoolSchema = Type.Object(
  { ...TypeMeta, spec: IpPoolSpecSchema },
  { description: 'IPPool is the Schema for the ippools API.' },
);

export type IpAllocation = Static<typeof IpAllocationSchema>;
export type IpPoolSpec = Static<typeof IpPoolSpecSchema>;
export type IpPool = Static<typeof IpPoolSchema>;
