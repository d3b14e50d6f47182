/**
 * Structural checks (types, enums, ranges, required and unknown fields) by ajv against the very schema
 * written into the CRD, with ajv's errors turned into our FieldError list. Unknown fields are errors
 * here (the API server would silently prune them, losing what the user wrote).
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { KindInfo } from '../kinds';
import { QUANTITY_PATTERN } from '../quantity';
import { kindJsonSchema } from '../defaults';
import { fieldError, pointerToPath, childPath, type FieldError } from '../field-error';
import {
  X_PRESERVE_UNKNOWN,
  X_EMBEDDED_RESOURCE,
  X_INT_OR_STRING,
  X_LIST_MAP_KEYS,
  X_LIST_TYPE,
  X_MAP_TYPE,
} from '../schema/common';
import type { JsonSchema } from '../schema-walk';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

function createAjv(): Ajv {
  // verbose: errors carry the offending value (`data`) and their schema, for messages that show both.
  const ajv = new Ajv({
    allErrors: true,
    strict: true,
    strictTypes: false,
    allowUnionTypes: true,
    verbose: true,
  });
  for (const keyword of [
    X_PRESERVE_UNKNOWN,
    X_EMBEDDED_RESOURCE,
    X_INT_OR_STRING,
    X_LIST_MAP_KEYS,
    X_LIST_TYPE,
    X_MAP_TYPE,
  ]) {
    ajv.addKeyword({ keyword, schemaType: ['boolean', 'string', 'array'] });
  }
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => n >= -2147483648 && n <= 2147483647 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  ajv.addFormat('date-time', RFC3339);
  return ajv;
}

/** Adds `additionalProperties: false` to every closed object so typos are reported. */
function strictCopy(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = { ...schema };
  if (schema.properties) {
    out.properties = Object.fromEntries(
      Object.entries(schema.properties).map(([k, v]) => [k, strictCopy(v)]),
    );
    if (schema[X_PRESERVE_UNKNOWN] !== true && schema.additionalProperties === undefined)
      out.additionalProperties = false;
  }
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    out.additionalProperties = strictCopy(schema.additionalProperties);
  }
  if (schema.items) out.items = strictCopy(schema.items);
  return out;
}

const ajv = createAjv();
const compiled = new Map<KindInfo, ValidateFunction>();

function validatorFor(info: KindInfo): ValidateFunction {
  let fn = compiled.get(info);
  if (!fn) {
    fn = ajv.compile(strictCopy(kindJsonSchema(info)));
    compiled.set(info, fn);
  }
  return fn;
}

function describeType(schema: unknown): string {
  return typeof schema === 'string' ? schema : Array.isArray(schema) ? schema.join(' or ') : 'valid';
}

const QUANTITY_EXAMPLES = 'such as "8Gi", "512Mi", "1.5" or "250m"';
const PORT_RULE = 'must be a port number from 1 to 65535, e.g. 5432';

/** `8GB`, `512 MB`: the usual slip, with the two spellings that mean something. */
function quantityHint(value: unknown): string {
  const m = typeof value === 'string' ? /^\s*([0-9.]+)\s*([KMGTPE])i?B\s*$/i.exec(value) : null;
  if (!m) return '';
  const [, n, unit] = m;
  return ` — write "${n}${unit.toUpperCase()}i" (binary, ${unit.toUpperCase()}iB) or "${n}${unit.toUpperCase()}" (decimal)`;
}

function isQuantitySchema(schema: unknown): boolean {
  return (schema as JsonSchema | undefined)?.pattern === QUANTITY_PATTERN;
}

function isPortSchema(schema: unknown): boolean {
  const s = schema as { minimum?: number; maximum?: number } | undefined;
  return s?.minimum === 1 && s.maximum === 65535;
}

function toFieldError(e: ErrorObject): FieldError | undefined {
  const path = pointerToPath(e.instancePath);
  // Quantities and ports: say what a valid value looks like (the pattern itself helps nobody).
  if (isQuantitySchema(e.parentSchema) && (e.keyword === 'pattern' || e.keyword === 'anyOf'))
    return fieldError(
      path,
      'quantity',
      `must be a Kubernetes quantity ${QUANTITY_EXAMPLES}${quantityHint(e.data)}`,
      e.data,
    );
  if (isPortSchema(e.parentSchema) && ['minimum', 'maximum', 'type', 'format'].includes(e.keyword))
    return fieldError(path, 'port', PORT_RULE, e.data);
  return schemaFieldError(e, path);
}

function schemaFieldError(e: ErrorObject, path: string): FieldError | undefined {
  // Branch errors of an int-or-string `anyOf` are summarised by the anyOf error itself.
  if (/\/anyOf\/\d+\//.test(e.schemaPath)) return undefined;
  switch (e.keyword) {
    case 'required':
      return fieldError(childPath(path, String(e.params.missingProperty)), 'required', 'Required value');
    case 'additionalProperties':
      return fieldError(
        childPath(path, String(e.params.additionalProperty)),
        'unknown-field',
        `unknown field "${String(e.params.additionalProperty)}"`,
      );
    case 'anyOf':
      return fieldError(path, 'type', 'must be an integer or a quantity string', e.data);
    case 'type':
      return fieldError(path, 'type', `must be of type ${describeType(e.params.type)}`, e.data);
    case 'enum':
      return fieldError(
        path,
        'enum',
        `must be one of: ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
        e.data,
      );
    case 'pattern':
      return fieldError(
        path,
        'pattern',
        `must match the regular expression '${String(e.params.pattern)}'`,
        e.data,
      );
    case 'format':
      return fieldError(path, 'format', `must be a valid ${String(e.params.format)}`, e.data);
    case 'minimum':
      return fieldError(
        path,
        'minimum',
        `must be greater than or equal to ${String(e.params.limit)}`,
        e.data,
      );
    case 'maximum':
      return fieldError(path, 'maximum', `must be less than or equal to ${String(e.params.limit)}`, e.data);
    case 'minLength':
      return fieldError(path, 'min-length', `must be at least ${String(e.params.limit)} chars long`, e.data);
    case 'maxLength':
      return fieldError(
        path,
        'max-length',
        `may not be more than ${String(e.params.limit)} chars long`,
        e.data,
      );
    default:
      return fieldError(path, e.keyword, e.message ?? 'is invalid', e.data);
  }
}

/** Checks an object of the given kind against its schema. */
export function validateAgainstSchema(info: KindInfo, obj: unknown): FieldError[] {
  const fn = validatorFor(info);
  if (fn(obj)) return [];
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const e of fn.errors ?? []) {
    const fe = toFieldError(e);
    if (!fe) continue;
    const key = `${fe.path}|${fe.rule}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(fe);
  }
  return out;
}

/** Whether a path (or one of its parents) already has a schema error: semantic rules then stay quiet. */
export function hasErrorAt(errors: readonly FieldError[], path: string): boolean {
  return errors.some(
    (e) => e.path === path || path.startsWith(`${e.path}.`) || path.startsWith(`${e.path}[`),
  );
}
