/**
 * Turns `crds` field errors into cdk8s validation messages. cdk8s prefixes each message with the
 * construct path, so a failing synth reads `[chart/vm] spec.guest.cpus.use: should be ... [use-within-range]`.
 */
import type { IValidation } from 'constructs';
import { formatFieldErrors, type FieldError } from '../crds';

/**
 * A cdk8s validation that runs `check` on the fully produced object at synth time. With `propOf`, each
 * line also names the construct prop the field comes from:
 * `spec.guest.rootDisk.size (prop rootDisk.size): must be a Kubernetes quantity … [quantity]`.
 */
export function fieldErrorValidation(
  check: () => readonly FieldError[],
  propOf?: (path: string) => string | undefined,
): IValidation {
  return {
    validate: () =>
      check().map((e) => {
        const prop = propOf?.(e.path);
        const line = formatFieldErrors([e]);
        return prop && prop !== e.path ? line.replace(e.path, `${e.path} (prop ${prop})`) : line;
      }),
  };
}
