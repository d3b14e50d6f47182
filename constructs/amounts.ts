/**
 * Value conversions between readable construct props and the wire encodings `crds/` owns. Nothing
 * here parses or range-checks: CPU amounts are canonicalised by `crds` (`canonicalizeVirtualMachine`)
 * and checked by its validation, so a bad value surfaces at synth with its field path.
 */
import type { Size } from 'cdk8s';

/** A CPU amount: a number of CPUs (`0.25`, `1`) or a quantity string (`"250m"`, `"1.5"`). */
export type CpuAmount = number | string;

/** A memory or disk size: a cdk8s `Size` (`Size.gibibytes(1)`) or a quantity string (`"1Gi"`). */
export type SizeLike = Size | string;

/** The quantity string of a size; `Size` prints binary suffixes (`1Gi`, `512Mi`). */
export function sizeQuantity(size: SizeLike): string {
  return typeof size === 'string' ? size : size.asString();
}

export function optionalSizeQuantity(size: SizeLike | undefined): string | undefined {
  return size === undefined ? undefined : sizeQuantity(size);
}
