/**
 * Value conversions between readable construct props and the wire encodings `crds/` owns. Nothing
 * here parses or range-checks: CPU amounts are canonicalised by `crds` (`canonicalizeVirtualMachine`)
 * and checked by its validation, so a bad value surfaces at synth with its field path.
 */
/** A CPU amount: a number of CPUs (`0.25`, `1`) or a quantity string (`"250m"`, `"1.5"`). */
export type CpuAmount = number | string;

/**
 * A memory or disk size: a quantity string (`"1Gi"`) or a cdk8s `Size` (`Size.gibibytes(1)`). The
 * `Size` is matched by shape, not by class, so this module loads no cdk8s (the Pulumi components use
 * it) and a `Size` from whichever cdk8s 2.x copy the app has is accepted.
 */
export type SizeLike = string | { asString(): string };

/** A duration: a cdk8s `Duration` (`Duration.seconds(30)`), matched by shape like `SizeLike`. */
export interface DurationLike {
  toSeconds(): number;
}

/** The quantity string of a size; `Size` prints binary suffixes (`1Gi`, `512Mi`). */
export function sizeQuantity(size: SizeLike): string {
  return typeof size === 'string' ? size : size.asString();
}

export function optionalSizeQuantity(size: SizeLike | undefined): string | undefined {
  return size === undefined ? undefined : sizeQuantity(size);
}
