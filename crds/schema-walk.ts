/**
 * Walks a value alongside its schema. Used for defaulting (the API server's structural defaulting:
 * a missing property with a `default` gets it, recursively) and for canonical encodings (MilliCPU and
 * Quantity fields rewritten the way the Go types serialise them).
 */
import { MILLICPU_PATTERN, X_INT_OR_STRING } from './schema/common';
import { QUANTITY_PATTERN, canonicalQuantity } from './quantity';
import { canonicalMilliCpu } from './millicpu';

/** The JSON-schema subset our schemas use. */
export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  default?: unknown;
  pattern?: string;
  required?: string[];
  [key: string]: unknown;
}

type Json = unknown;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** Returns a copy of `value` with schema defaults applied; idempotent. */
export function applyDefaults(schema: JsonSchema, value: Json): Json {
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = { ...value };
    if (schema.properties) {
      for (const [key, propSchema] of Object.entries(schema.properties)) {
        if (out[key] === undefined && propSchema.default !== undefined) out[key] = clone(propSchema.default);
        if (out[key] !== undefined) out[key] = applyDefaults(propSchema, out[key]);
      }
    } else if (isPlainObject(schema.additionalProperties)) {
      const valueSchema = schema.additionalProperties;
      for (const key of Object.keys(out)) out[key] = applyDefaults(valueSchema, out[key]);
    }
    return out;
  }
  if (Array.isArray(value) && schema.items) {
    const items = schema.items;
    return value.map((v) => applyDefaults(items, v));
  }
  return value;
}

/**
 * Rewrites MilliCPU and Quantity leaves into canonical form. Values that do not parse are left as
 * they are (validation reports them); this never throws.
 */
export function canonicalizeEncodings(schema: JsonSchema, value: Json): Json {
  if (schema[X_INT_OR_STRING] === true && (typeof value === 'string' || typeof value === 'number')) {
    try {
      if (schema.pattern === MILLICPU_PATTERN) return canonicalMilliCpu(value);
      if (schema.pattern === QUANTITY_PATTERN) return canonicalQuantity(value);
    } catch {
      return value;
    }
    return value;
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = { ...value };
    if (schema.properties) {
      for (const [key, propSchema] of Object.entries(schema.properties)) {
        if (out[key] !== undefined) out[key] = canonicalizeEncodings(propSchema, out[key]);
      }
    } else if (isPlainObject(schema.additionalProperties)) {
      const valueSchema = schema.additionalProperties;
      for (const key of Object.keys(out)) out[key] = canonicalizeEncodings(valueSchema, out[key]);
    }
    return out;
  }
  if (Array.isArray(value) && schema.items) {
    const items = schema.items;
    return value.map((v) => canonicalizeEncodings(items, v));
  }
  return value;
}

/**
 * Orders object keys as the schema declares them (= Go struct order); unknown keys keep their order
 * after the known ones. This is what makes our YAML byte-identical to upstream's Go encoder output.
 */
export function orderKeys(schema: JsonSchema | undefined, value: Json): Json {
  if (Array.isArray(value)) return value.map((v) => orderKeys(schema?.items, v));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  const props = schema?.properties;
  if (props) {
    for (const key of Object.keys(props))
      if (value[key] !== undefined) out[key] = orderKeys(props[key], value[key]);
  }
  const valueSchema = isPlainObject(schema?.additionalProperties)
    ? (schema?.additionalProperties as JsonSchema)
    : undefined;
  for (const [key, v] of Object.entries(value)) {
    if (!(key in out) && v !== undefined) out[key] = orderKeys(props ? undefined : valueSchema, v);
  }
  return out;
}

/** The plain JSON form of a TypeBox schema (drops TypeBox's symbol keys). */
export function plainSchema(schema: unknown): JsonSchema {
  return JSON.parse(JSON.stringify(schema)) as JsonSchema;
}
