/** Type helpers that derive Pulumi `Args` from the construct props instead of retyping them. */
import type * as pulumi from '@pulumi/pulumi';

/** Every field of `T` may be a Pulumi input. */
export type Inputs<T> = { [K in keyof T]: pulumi.Input<T[K]> };

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
