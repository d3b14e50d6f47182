/**
 * Schema building blocks shared by the NeonVM kinds. Every schema here is at the same time the
 * TypeScript type (through TypeBox's `Static`), the structural OpenAPI v3 schema written into the CRD,
 * and the input of our validator (ajv), so a field, its default and its range are written once.
 */
import { Type, type Static, type TSchema, type TUnsafe, type SchemaOptions } from '@sinclair/typebox';
import { QUANTITY_PATTERN } from '../quantity';
import type { MilliCpuWire } from '../millicpu';

/** Upstream's MilliCPU pattern (unanchored at the end, as upstream). */
export const MILLICPU_PATTERN = '^[0-9]+((\\.[0-9]*)?|m)';

/** Vendor keywords of Kubernetes structural schemas. */
export const X_INT_OR_STRING = 'x-kubernetes-int-or-string';
export const X_PRESERVE_UNKNOWN = 'x-kubernetes-preserve-unknown-fields';
export const X_EMBEDDED_RESOURCE = 'x-kubernetes-embedded-resource';
export const X_LIST_TYPE = 'x-kubernetes-list-type';
export const X_LIST_MAP_KEYS = 'x-kubernetes-list-map-keys';
export const X_MAP_TYPE = 'x-kubernetes-map-type';

/** A Kubernetes `resource.Quantity`: integer or quantity string. */
export function QuantitySchema(options: SchemaOptions = {}): TUnsafe<string | number> {
  return Type.Unsafe<string | number>({
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    pattern: QUANTITY_PATTERN,
    [X_INT_OR_STRING]: true,
    ...options,
  });
}

/**
 * MilliCPU: integer CPUs or a quantity string. Upstream's pattern is kept (it is unanchored at the
 * end and so accepts `"1.5"` and `"250m"`); the exact value is checked by the validator.
 */
export function MilliCpuSchema(options: SchemaOptions = {}): TUnsafe<MilliCpuWire> {
  return Type.Unsafe<MilliCpuWire>({
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    pattern: MILLICPU_PATTERN,
    [X_INT_OR_STRING]: true,
    ...options,
  });
}

/**
 * An embedded core/v1 type (Affinity, Container, ...) that the API server validates itself when the
 * object reaches a pod. Kept open in the CRD (as upstream's would be huge and version-bound); its
 * TypeScript type comes from kubernetes-types (types only, no runtime).
 */
export function Embedded<T>(description: string): TUnsafe<T> {
  return Type.Unsafe<T>({ type: 'object', description, [X_PRESERVE_UNKNOWN]: true });
}

/** A string enum in the structural form (`type: string` + `enum`), not TypeBox's anyOf of literals. */
export function StringEnum<T extends readonly string[]>(
  values: T,
  options: SchemaOptions = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

export const Int32 = (options: SchemaOptions = {}) => Type.Integer({ format: 'int32', ...options });
export const Int64 = (options: SchemaOptions = {}) => Type.Integer({ format: 'int64', ...options });
export const Port = (options: SchemaOptions = {}) => Int32({ minimum: 1, maximum: 65535, ...options });

/** A map with string keys; `additionalProperties` (not TypeBox's patternProperties) keeps it structural. */
export function MapOf<T extends TSchema>(
  value: T,
  options: SchemaOptions = {},
): TUnsafe<Record<string, Static<T>>> {
  return Type.Unsafe<Record<string, Static<T>>>({ type: 'object', additionalProperties: value, ...options });
}

export const StringMap = (options: SchemaOptions = {}) => MapOf(Type.String(), options);

/** `metav1.Condition`, as the Go type declares it. */
export const Condition = Type.Object(
  {
    type: Type.String({
      maxLength: 316,
      pattern:
        '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
    }),
    status: StringEnum(['True', 'False', 'Unknown'] as const),
    observedGeneration: Type.Optional(Int64({ minimum: 0 })),
    lastTransitionTime: Type.String({ format: 'date-time' }),
    reason: Type.String({
      maxLength: 1024,
      minLength: 1,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
    }),
    message: Type.String({ maxLength: 32768 }),
  },
  { description: 'Condition contains details for one aspect of the current state of this API Resource.' },
);

export const Conditions = Type.Array(Condition, {
  [X_LIST_TYPE]: 'map',
  [X_LIST_MAP_KEYS]: ['type'],
  description: 'Conditions (types Available and Degraded) describing the observed state.',
});

/** A minimal ObjectMeta for the TypeScript types; the API server owns its schema. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  ownerReferences?: Array<{
    apiVersion: string;
    kind: string;
    name: string;
    uid: string;
    controller?: boolean;
    blockOwnerDeletion?: boolean;
  }>;
  [key: string]: unknown;
}

/** Shared top-level fields of every kind. */
export const TypeMeta = {
  apiVersion: Type.Optional(Type.String()),
  kind: Type.Optional(Type.String()),
  metadata: Type.Optional(Type.Unsafe<ObjectMeta>({ type: 'object' })),
};
