/**
 * `neonvm:index:VirtualMachineMigration`: live-migrates a VM. The VM is given as the `VirtualMachine`
 * component (its name and namespace are taken from it and the migration depends on it) or by name.
 */
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import {
  API_VERSION,
  VIRTUAL_MACHINE_MIGRATION,
  ValidationError,
  canonicalObject,
  formatFieldErrors,
  validateVirtualMachineMigration,
  type VirtualMachineMigration as MigrationObject,
  type VirtualMachineMigrationSpec,
  type VirtualMachineMigrationStatus,
} from '../crds';
import { isPlainValue, type DeepInput, type Inputs, type ObjectMetaArgs } from './inputs';
import { TIMEOUT_ANNOTATION, WAIT_FOR_ANNOTATION } from './resource-options';
import { VirtualMachine } from './virtual-machine';

/** The migration spec without `vmName`, which comes from `vm`. */
export type VirtualMachineMigrationSpecArgs = Omit<VirtualMachineMigrationSpec, 'vmName'>;

/** Arguments of `VirtualMachineMigration`. */
export interface VirtualMachineMigrationArgs extends Inputs<VirtualMachineMigrationSpecArgs> {
  /**
   * The VM to migrate: the `VirtualMachine` component (the migration then depends on it and defaults
   * to its namespace) or the name of a VM in the migration's namespace.
   */
  readonly vm: VirtualMachine | pulumi.Input<string>;
  /**
   * Name, namespace, labels and annotations of the VirtualMachineMigration.
   * @default - named after the component, in the VM's namespace
   */
  readonly metadata?: DeepInput<ObjectMetaArgs>;
  /**
   * Make `pulumi up` wait until the migration Succeeded.
   * @default false
   */
  readonly waitForCompletion?: boolean;
  /**
   * How long `pulumi up` waits (`pulumi.com/timeoutSeconds`), in seconds.
   * @default - the Kubernetes provider's default (10 minutes)
   */
  readonly timeoutSeconds?: number;
}

/** The migration object, canonical and validated (throws a `ValidationError` naming every field). */
export function buildMigrationObject(
  name: string,
  metadata: ObjectMetaArgs,
  spec: VirtualMachineMigrationSpec,
): MigrationObject {
  const obj = canonicalObject<MigrationObject>({
    apiVersion: API_VERSION,
    kind: VIRTUAL_MACHINE_MIGRATION.kind,
    metadata: {
      name: metadata.name ?? name,
      ...(metadata.namespace ? { namespace: metadata.namespace } : {}),
      ...(metadata.labels ? { labels: { ...metadata.labels } } : {}),
      ...(metadata.annotations ? { annotations: { ...metadata.annotations } } : {}),
    },
    spec,
  });
  const errors = validateVirtualMachineMigration(obj);
  if (errors.length > 0)
    throw new ValidationError(`VirtualMachineMigration ${obj.metadata?.name ?? ''}`, errors);
  return JSON.parse(JSON.stringify(obj)) as MigrationObject;
}

/**
 * A live migration of a NeonVM VirtualMachine to another node.
 *
 * ```ts
 * const vm = new VirtualMachine('pg', { rootDisk: { image: 'vm-postgres:15-bullseye' } });
 * new VirtualMachineMigration('move-pg', { vm, waitForCompletion: true });
 * ```
 */
export class VirtualMachineMigration extends pulumi.ComponentResource {
  public readonly object: pulumi.Output<MigrationObject>;
  /** The child `kubernetes` CustomResource (`<name>-migration`). */
  public readonly resource: k8s.apiextensions.CustomResource;
  /** `metadata.name` of the VirtualMachineMigration. */
  public readonly name: pulumi.Output<string>;
  /** `metadata.namespace`, as the API server set it. */
  public readonly namespace: pulumi.Output<string>;
  public readonly phase: pulumi.Output<string | undefined>;
  public readonly sourcePodName: pulumi.Output<string | undefined>;
  public readonly targetPodName: pulumi.Output<string | undefined>;

  public constructor(
    name: string,
    args: VirtualMachineMigrationArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super('neonvm:index:VirtualMachineMigration', name, {}, opts);
    const { vm, metadata, waitForCompletion, timeoutSeconds, ...spec } = args;
    const component = vm instanceof VirtualMachine ? vm : undefined;
    const build = (m: ObjectMetaArgs, s: VirtualMachineMigrationSpec): MigrationObject => {
      try {
        return buildMigrationObject(name, m, s);
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        throw new pulumi.ResourceError(
          `VirtualMachineMigration ${m.name ?? name} is invalid:\n${formatFieldErrors(err.errors)}`,
          this,
          true,
        );
      }
    };
    if (!component && isPlainValue(vm) && isPlainValue(metadata) && isPlainValue(spec)) {
      this.object = pulumi.output(
        build(
          (metadata ?? {}) as ObjectMetaArgs,
          { ...spec, vmName: vm as string } as VirtualMachineMigrationSpec,
        ),
      );
    } else {
      const vmName = component ? component.name : pulumi.output(vm as pulumi.Input<string>);
      const vmNamespace = component ? component.namespace : pulumi.output(undefined);
      this.object = pulumi
        .all([pulumi.output(metadata ?? {}), pulumi.output(spec), vmName, vmNamespace])
        .apply(([m, s, n, ns]) => {
          const meta = m as ObjectMetaArgs;
          return build({ ...meta, namespace: meta.namespace ?? ns }, {
            ...(s as VirtualMachineMigrationSpecArgs),
            vmName: n,
          } as VirtualMachineMigrationSpec);
        });
    }
    this.resource = new k8s.apiextensions.CustomResource(
      `${name}-migration`,
      {
        apiVersion: API_VERSION,
        kind: VIRTUAL_MACHINE_MIGRATION.kind,
        metadata: this.object.apply((o) => ({
          ...o.metadata,
          annotations: {
            ...o.metadata?.annotations,
            ...(waitForCompletion ? { [WAIT_FOR_ANNOTATION]: 'jsonpath={.status.phase}=Succeeded' } : {}),
            ...(timeoutSeconds !== undefined ? { [TIMEOUT_ANNOTATION]: String(timeoutSeconds) } : {}),
          },
        })),
        spec: this.object.spec,
        status: undefined,
      },
      { parent: this, ...(component ? { dependsOn: [component] } : {}) },
    );
    this.name = this.resource.metadata.name;
    this.namespace = this.resource.metadata.namespace;
    const status = (
      this.resource as unknown as { status: pulumi.Output<VirtualMachineMigrationStatus | undefined> }
    ).status;
    this.phase = status.apply((s) => s?.phase);
    this.sourcePodName = status.apply((s) => s?.sourcePodName);
    this.targetPodName = status.apply((s) => s?.targetPodName);
    this.registerOutputs({
      name: this.name,
      namespace: this.namespace,
      phase: this.phase,
      sourcePodName: this.sourcePodName,
      targetPodName: this.targetPodName,
    });
  }
}
