/**
 * Validation results: a list of field errors, each naming the JSON path of the field, the rule it
 * breaks and a human message. Never a bare exception, so callers (webhook, constructs, CLI) can show
 * every problem at once.
 */
export interface FieldError {
  /** Dotted path with indexes, e.g. `spec.guest.cpus.use` or `spec.disks[1].name`. */
  readonly path: string;
  /** Stable rule identifier, e.g. `required`, `use-within-range`, `immutable`. */
  readonly rule: string;
  readonly message: string;
  /** The offending value, when there is one. */
  readonly value?: unknown;
}

export function fieldError(path: string, rule: string, message: string, value?: unknown): FieldError {
  return value === undefined ? { path, rule, message } : { path, rule, message, value };
}

/** Joins a path and a child key the way Kubernetes prints field paths. */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${key}]`;
}

/** Converts a JSON pointer (`/spec/disks/0/name`) into a field path (`spec.disks[0].name`). */
export function pointerToPath(pointer: string): string {
  if (!pointer) return '';
  return pointer
    .split('/')
    .slice(1)
    .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<string>((acc, seg) => childPath(acc, /^\d+$/.test(seg) ? Number(seg) : seg), '');
}

/** One line per error, in the style of the API server's messages. */
export function formatFieldErrors(errors: readonly FieldError[]): string {
  return errors
    .map(
      (e) =>
        `${e.path || '<root>'}: ${e.message}${e.value === undefined ? '' : ` (got ${JSON.stringify(e.value)})`} [${e.rule}]`,
    )
    .join('\n');
}

/** Thrown by APIs that cannot return a list (constructs at synth time, the CLI). */
export class ValidationError extends Error {
  constructor(
    readonly subject: string,
    readonly errors: readonly FieldError[],
  ) {
    super(`${subject} is invalid:\n${formatFieldErrors(errors)}`);
    this.name = 'ValidationError';
  }
}
