/** `neonvm:index:VirtualMachineMigration`: live-migrates a VM; validated by `crds` before preview ends. */
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import {
  API_VERSION,
  VIRTUAL_MACHINE_MIGRATION,
  ValidationError,
  canonicalObject,
  validateVirtualMachineMigration,
  type VirtualMachineMigration as MigrationObject,
  type VirtualMachineMigrationSpec,
  type VirtualMachineMigrationStatus,
} from '../crds';
import type { Inputs, ObjectMetaArgs } from './inputs';

export type VirtualMachineMigrationSpecArgs = VirtualMachineMigrationSpec;

export interface VirtualMachineMigrationArgs extends Inputs<VirtualMachineMigrationSpecArgs> {
  readonly metadata?: pulumi.Input<ObjectMetaArgs>;
  /**
   * Make `pulumi up` wait until the migration Succeeded.
   * @default false
   */
  readonly waitForCompletion?: boolean;
}

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
    },
    spec,
  });
  const errors = validateVirtualMachineMigration(obj);
  if (errors.length > 0)
    throw new ValidationError(`VirtualMachineMigration ${obj.metadata?.name ?? ''}`, errors);
  return JSON.parse(JSON.stringify(obj)) as MigrationObject;
}

export class VirtualMachineMigration extends pulumi.ComponentResource {
  public readonly object: pulumi.Output<MigrationObject>;
  public readonly resource: k8s.apiextensions.CustomResource;
  public readonly phase: pulumi.Output<string | undefined>;
  public readonly sourcePodName: pulumi.Output<string | undefined>;
  public readonly targetPodName: pulumi.Output<string | undefined>;

  public constructor(
    name: string,
    args: VirtualMachineMigrationArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super('neonvm:index:VirtualMachineMigration', name, {}, opts);
    const { metadata, waitForCompletion, ...spec } = args;
    this.object = pulumi
      .all([pulumi.output(metadata ?? {}), pulumi.output(spec)])
      .apply(([m, s]) =>
        buildMigrationObject(name, m as ObjectMetaArgs, s as unknown as VirtualMachineMigrationSpec),
      );
    this.resource = new k8s.apiextensions.CustomResource(
      `${name}-migration`,
      {
        apiVersion: API_VERSION,
        kind: VIRTUAL_MACHINE_MIGRATION.kind,
        metadata: this.object.apply((o) => ({
          ...o.metadata,
          ...(waitForCompletion
            ? { annotations: { 'pulumi.com/waitFor': 'jsonpath={.status.phase}=Succeeded' } }
            : {}),
        })),
        spec: this.object.spec,
        status: undefined,
      },
      { parent: this },
    );
    const status = (
      this.resource as unknown as { status: pulumi.Output<VirtualMachineMigrationStatus | undefined> }
    ).status;
    this.phase = status.apply((s) => s?.phase);
    this.sourcePodName = status.apply((s) => s?.sourcePodName);
    this.targetPodName = status.apply((s) => s?.targetPodName);
    this.registerOutputs({
      object: this.object,
      phase: this.phase,
      sourcePodName: this.sourcePodName,
      targetPodName: this.targetPodName,
    });
  }
}
