import type { FieldError } from '../field-error';
import type { KindInfo } from '../kinds';
import { validateAgainstSchema } from './schema-validator';

/**
 * Runs a validator's defaulting and cross-field rules, which assume the object's shape (a disk is an
 * object, a path a string). On an object that breaks the schema badly enough for them to throw, the
 * schema's own errors are the answer (each with its path and rule); only a throw on a schema-valid
 * object escapes, as the bug it is.
 */
export function withSchemaFallback(info: KindInfo, raw: unknown, validate: () => FieldError[]): FieldError[] {
  try {
    return validate();
  } catch (err) {
    const schemaErrors = validateAgainstSchema(info, raw);
    if (schemaErrors.length > 0) return schemaErrors;
    throw err;
  }
}
