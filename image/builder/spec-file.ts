/** Loading `--spec spec.yaml`: YAML → validated ImageSpec, or a ValidationError naming every bad field. */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ValidationError, fieldError } from '../../crds';
import { ImageSpec, isValidImageSpec, validateImageSpec } from './image-spec';

export function parseImageSpec(text: string, source: string): ImageSpec {
  let value: unknown;
  try {
    value = parse(text);
  } catch (e) {
    throw new ValidationError(source, [fieldError('', 'yaml', (e as Error).message)]);
  }
  if (isValidImageSpec(value)) return value;
  throw new ValidationError(source, validateImageSpec(value));
}

export function loadImageSpec(path: string): ImageSpec {
  return parseImageSpec(readFileSync(path, 'utf8'), path);
}
