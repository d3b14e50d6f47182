/**
 * Turns `crds` field errors into cdk8s validation messages. cdk8s prefixes each message with the
 * construct path, so a failing synth reads `[chart/vm] spec.guest.cpus.use: should be ... [use-within-range]`.
 */
import type { IValidation } from 'constructs';
import { formatFieldErrors, type FieldError } from '../crds';

/** A cdk8s validation that runs `check` on the fully produced object at synth time. */
export function fieldErrorValidation(check: () => readonly FieldError[]): IValidation {
  return {
    validate: () => {
      const errors = check();
      return errors.length === 0 ? [] : formatFieldErrors(errors).split('\n');
    },
  };
}
