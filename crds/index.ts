/**
 * neonvm/crds: the NeonVM API (vm.neon.tech/v1) as one typed source of truth — types and JSON schemas,
 * defaults, validation, the change classifier, CRD generation and wire encodings.
 */
export * from './schema';
export * from './kinds';
export * from './quantity';
export * from './millicpu';
export * from './duration';
export * from './field-error';
export * from './field-policy';
export * from './defaults';
export * from './validation';
export * from './classifier';
export * from './crd-manifest';
export * from './codec';
export * from './encoding';
export * from './validate-object';
export * from './structural';
