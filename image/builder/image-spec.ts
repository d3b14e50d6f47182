/**
 * The image spec of `neonvm image build --spec` (upstream vm-builder's `-spec` YAML): extra init
 * commands, a shutdown hook and files. Validation is pure and reports every problem with its field
 * path, like the API's validation; unknown fields are errors, as upstream.
 *
 * Differences from upstream, because there is no Docker here: `build` and `merge` (Dockerfile
 * fragments) are rejected with a clear message, and `files[].filename` must be an absolute path in
 * the image (upstream puts files in the Docker build context for a `merge` COPY).
 */
import { childPath, FieldError, fieldError } from '../../crds';

export type SysvInitAction =
  'sysinit' | 'wait' | 'once' | 'respawn' | 'askfirst' | 'shutdown' | 'restart' | 'ctrlaltdel';

/** busybox init's actions (its inittab accepts no others). */
export const SYSV_INIT_ACTIONS: readonly SysvInitAction[] = [
  'sysinit',
  'wait',
  'once',
  'respawn',
  'askfirst',
  'shutdown',
  'restart',
  'ctrlaltdel',
];

export interface SpecCommand {
  readonly name: string;
  readonly user: string;
  readonly sysvInitAction: SysvInitAction;
  readonly shell: string;
}

export type SpecFile =
  | { readonly filename: string; readonly content: string }
  | { readonly filename: string; readonly hostPath: string };

export interface ImageSpec {
  readonly commands?: readonly SpecCommand[];
  readonly shutdownHook?: string;
  readonly files?: readonly SpecFile[];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const USER = /^[a-z_][a-z0-9_.-]*\$?$|^[0-9]+$/i;

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function unknownFields(o: Obj, allowed: readonly string[], path: string, errors: FieldError[]): void {
  for (const key of Object.keys(o)) {
    if (allowed.includes(key)) continue;
    const p = childPath(path, key);
    if (key === 'build' || key === 'merge') {
      errors.push(
        fieldError(
          p,
          'unsupported',
          `Dockerfile fragments need Docker; put the change in the source image instead`,
        ),
      );
    } else {
      errors.push(fieldError(p, 'unknown-field', `unknown field "${key}"`));
    }
  }
}

function nonEmptyString(o: Obj, key: string, path: string, errors: FieldError[]): string | undefined {
  const v = o[key];
  const p = childPath(path, key);
  if (v === undefined) errors.push(fieldError(p, 'required', 'required'));
  else if (typeof v !== 'string') errors.push(fieldError(p, 'type', 'must be a string', v));
  else if (v.trim() === '') errors.push(fieldError(p, 'non-empty', 'must not be empty'));
  else return v;
  return undefined;
}

function validateCommands(v: unknown, errors: FieldError[]): void {
  if (!Array.isArray(v)) {
    errors.push(fieldError('commands', 'type', 'must be a list'));
    return;
  }
  const seen = new Set<string>();
  v.forEach((c: unknown, i) => {
    const path = `commands[${i}]`;
    if (!isObject(c)) return errors.push(fieldError(path, 'type', 'must be an object'));
    unknownFields(c, ['name', 'user', 'sysvInitAction', 'shell'], path, errors);
    const name = nonEmptyString(c, 'name', path, errors);
    if (name !== undefined) {
      if (!NAME.test(name))
        errors.push(fieldError(`${path}.name`, 'name', 'letters, digits, ".", "_" and "-" only', name));
      else if (seen.has(name))
        errors.push(fieldError(`${path}.name`, 'unique', `duplicate command name`, name));
      seen.add(name);
    }
    const user = nonEmptyString(c, 'user', path, errors);
    if (user !== undefined && !USER.test(user))
      errors.push(fieldError(`${path}.user`, 'user', 'not a valid user name or uid', user));
    const action = nonEmptyString(c, 'sysvInitAction', path, errors);
    if (action !== undefined && !(SYSV_INIT_ACTIONS as readonly string[]).includes(action)) {
      errors.push(
        fieldError(
          `${path}.sysvInitAction`,
          'enum',
          `must be one of ${SYSV_INIT_ACTIONS.join(', ')}`,
          action,
        ),
      );
    }
    nonEmptyString(c, 'shell', path, errors);
  });
}

function validateFiles(v: unknown, errors: FieldError[]): void {
  if (!Array.isArray(v)) {
    errors.push(fieldError('files', 'type', 'must be a list'));
    return;
  }
  const seen = new Set<string>();
  v.forEach((f: unknown, i) => {
    const path = `files[${i}]`;
    if (!isObject(f)) return errors.push(fieldError(path, 'type', 'must be an object'));
    unknownFields(f, ['filename', 'hostPath', 'content'], path, errors);
    const filename = nonEmptyString(f, 'filename', path, errors);
    if (filename !== undefined) {
      const parts = filename.split('/');
      if (!filename.startsWith('/') || parts.includes('..') || filename.endsWith('/')) {
        errors.push(
          fieldError(
            `${path}.filename`,
            'absolute-path',
            'must be an absolute file path in the image, without ".."',
            filename,
          ),
        );
      } else if (filename === '/neonvm' || filename.startsWith('/neonvm/')) {
        errors.push(
          fieldError(`${path}.filename`, 'reserved', '/neonvm belongs to the NeonVM guest', filename),
        );
      } else if (seen.has(filename)) {
        errors.push(fieldError(`${path}.filename`, 'unique', 'duplicate file', filename));
      }
      seen.add(filename);
    }
    const sources = ['hostPath', 'content'].filter((k) => f[k] !== undefined);
    if (sources.length !== 1) {
      errors.push(fieldError(path, 'one-source', 'exactly one of hostPath and content is required'));
    } else if (typeof f[sources[0]] !== 'string') {
      errors.push(fieldError(childPath(path, sources[0]), 'type', 'must be a string'));
    } else if (sources[0] === 'hostPath' && f.hostPath === '') {
      errors.push(fieldError(`${path}.hostPath`, 'non-empty', 'must not be empty'));
    }
  });
}

export function validateImageSpec(value: unknown): FieldError[] {
  const errors: FieldError[] = [];
  if (!isObject(value)) return [fieldError('', 'type', 'the spec must be a YAML mapping')];
  unknownFields(value, ['commands', 'shutdownHook', 'files'], '', errors);
  if (value.commands !== undefined) validateCommands(value.commands, errors);
  if (value.shutdownHook !== undefined && typeof value.shutdownHook !== 'string') {
    errors.push(fieldError('shutdownHook', 'type', 'must be a string'));
  }
  if (value.files !== undefined) validateFiles(value.files, errors);
  return errors;
}

/** Narrows a value that validateImageSpec accepted. */
export function isValidImageSpec(value: unknown): value is ImageSpec {
  return validateImageSpec(value).length === 0;
}
