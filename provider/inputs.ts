/** Type helpers that derive Pulumi `Args` from the construct props instead of retyping them. */
import * as pulumi from '@pulumi/pulumi';

/**
 * `T` where every value, at any depth, may be a Pulumi input (an Output, a Promise or the value), as
 * Pulumi's generated `Args` types are: `{ rootDisk: { image: someOutput } }` type-checks.
 */
export type DeepInput<T> = pulumi.Input<
  T extends string | number | boolean | undefined | null
    ? T
    : T extends ReadonlyArray<infer U>
      ? ReadonlyArray<DeepInput<U>>
      : T extends object
        ? { readonly [K in keyof T]: DeepInput<T[K]> }
        : T
>;

/** Every field of `T` may be a deep Pulumi input. */
export type Inputs<T> = { readonly [K in keyof T]: DeepInput<T[K]> };

/** Metadata a component accepts for the object it creates. */
export interface ObjectMetaArgs {
  /**
   * Object name.
   * @default - the component name
   */
  readonly name?: string;
  /**
   * @default - the provider's default namespace
   */
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/**
 * Whether a value holds no Output or Promise at any depth: then a component can build and validate
 * its object in the constructor and throw there, once, instead of inside an `apply`.
 */
export function isPlainValue(value: unknown): boolean {
  if (pulumi.Output.isInstance(value)) return false;
  if (value === null || typeof value !== 'object') return true;
  if (typeof (value as { then?: unknown }).then === 'function') return false;
  if (Array.isArray(value)) return value.every(isPlainValue);
  return Object.values(value).every(isPlainValue);
}

/** The value itself when plain (typed as unwrapped), else undefined. */
export function plainOrUndefined<T>(value: DeepInput<T> | T): T | undefined {
  return isPlainValue(value) ? (value as T) : undefined;
}
