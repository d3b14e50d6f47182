/**
 * Checks a CRD schema against the rules of Kubernetes *structural* schemas (apiextensions-apiserver
 * refuses a CRD that breaks them): a type on every node unless int-or-string or preserve-unknown,
 * anyOf only in the int-or-string form, no additionalProperties next to properties or set to false,
 * and no keywords the API server forbids. Used by tests so a schema change cannot produce a CRD that
 * the API server would reject.
 */
import { X_INT_OR_STRING, X_PRESERVE_UNKNOWN } from './schema/common';
import type { JsonSchema } from './schema-walk';

const FORBIDDEN = [
  '$ref',
  'definitions',
  'patternProperties',
  'const',
  'dependencies',
  'additionalItems',
  '$schema',
  'id',
];
const KNOWN_TYPES = ['object', 'array', 'string', 'integer', 'number', 'boolean'];

function isIntOrStringAnyOf(schema: JsonSchema): boolean {
  const anyOf = schema.anyOf as JsonSchema[] | undefined;
  return (
    Array.isArray(anyOf) &&
    anyOf.length === 2 &&
    anyOf.some((s) => s.type === 'integer' && Object.keys(s).length === 1) &&
    anyOf.some((s) => s.type === 'string' && Object.keys(s).length === 1)
  );
}

export function structuralViolations(schema: JsonSchema, path = '<root>'): string[] {
  const out: string[] = [];
  for (const key of FORBIDDEN)
    if (key in schema) out.push(`${path}: '${key}' is not allowed in a structural schema`);
  const intOrString = schema[X_INT_OR_STRING] === true;
  const preserve = schema[X_PRESERVE_UNKNOWN] === true;
  if (intOrString) {
    if (schema.type !== undefined) out.push(`${path}: int-or-string must not set 'type'`);
    if (schema.anyOf !== undefined && !isIntOrStringAnyOf(schema))
      out.push(`${path}: int-or-string anyOf must be [integer, string]`);
  } else {
    if (schema.anyOf || schema.oneOf || schema.allOf || schema.not)
      out.push(`${path}: anyOf/oneOf/allOf/not only allowed for int-or-string`);
    if (schema.type === undefined && !preserve) out.push(`${path}: 'type' must be set`);
    if (schema.type !== undefined && !KNOWN_TYPES.includes(schema.type))
      out.push(`${path}: unknown type '${schema.type}'`);
  }
  if (schema.additionalProperties === false) out.push(`${path}: additionalProperties must not be false`);
  if (schema.additionalProperties !== undefined && schema.properties !== undefined) {
    out.push(`${path}: additionalProperties and properties are mutually exclusive`);
  }
  if (schema.type === 'array' && !schema.items) out.push(`${path}: arrays must declare items`);
  for (const [key, child] of Object.entries(schema.properties ?? {}))
    out.push(...structuralViolations(child, `${path}.${key}`));
  if (typeof schema.additionalProperties === 'object')
    out.push(...structuralViolations(schema.additionalProperties, `${path}.<value>`));
  if (schema.items) out.push(...structuralViolations(schema.items, `${path}[]`));
  return out;
}
