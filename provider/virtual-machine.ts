/**
 * `neonvm:index:VirtualMachine`: a NeonVM VirtualMachine as a Pulumi component. The object is built
 * and validated by the same code as the cdk8s construct (invalid args fail the preview with field
 * paths); the child is a `kubernetes` CustomResource whose status feeds the outputs.
 */
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import {
  API_VERSION,
  VIRTUAL_MACHINE,
  type VirtualMachine as VirtualMachineObject,
  type VirtualMachineStatus,
} from '../crds';
import type { Inputs, ObjectMetaArgs } from './inputs';
import {
  assertValidVirtualMachine,
  buildVirtualMachineObject,
  type VirtualMachineSpecArgs,
} from './virtual-machine-object';
import { virtualMachineChangeWarning } from './change-warnings';
import { kubeconfigReader, type LiveObjectReader } from './live-object-reader';
import { AUTOSCALER_IGNORE_CHANGES, WAIT_FOR_ANNOTATION, WAIT_FOR_RUNNING } from './resource-options';

export interface VirtualMachineArgs extends Inputs<VirtualMachineSpecArgs> {
  readonly metadata?: pulumi.Input<ObjectMetaArgs>;
  /**
   * Make `pulumi up` wait until the VM is Running (`pulumi.com/waitFor` annotation).
   * @default true
   */
  readonly waitForRunning?: boolean;
  /**
   * Ignore the fields the autoscaler changes at run time (`AUTOSCALER_IGNORE_CHANGES`).
   * @default false
   */
  readonly ignoreAutoscalerChanges?: boolean;
  /**
   * The live object to compare against at preview. When unset, the component reads it with
   * `liveObjectReader` (only during preview).
   * @default - read from the cluster
   */
  readonly previousObject?: VirtualMachineObject;
  /**
   * How the live object is read for the change warning; `false` to skip.
   * @default kubeconfigReader() (the default kubeconfig)
   */
  readonly liveObjectReader?: LiveObjectReader | false;
}

/** A type view of the CustomResource's `status` output (CustomResource only types the envelope). */
interface WithStatus<S> {
  readonly status: pulumi.Output<S | undefined>;
}

export class VirtualMachine extends pulumi.ComponentResource {
  /** The object as sent (after the component's own validation). */
  public readonly object: pulumi.Output<VirtualMachineObject>;
  public readonly resource: k8s.apiextensions.CustomResource;
  public readonly phase: pulumi.Output<string | undefined>;
  public readonly podName: pulumi.Output<string | undefined>;
  public readonly node: pulumi.Output<string | undefined>;
  /** The runner pod IP (the VM's address on the pod network). */
  public readonly ip: pulumi.Output<string | undefined>;
  /** The VM's overlay address, when `extraNetwork` is enabled. */
  public readonly extraNetIp: pulumi.Output<string | undefined>;

  public constructor(name: string, args: VirtualMachineArgs, opts?: pulumi.ComponentResourceOptions) {
    super('neonvm:index:VirtualMachine', name, {}, opts);
    const {
      metadata,
      waitForRunning,
      ignoreAutoscalerChanges,
      previousObject,
      liveObjectReader,
      ...specArgs
    } = args;
    this.object = pulumi
      .all([pulumi.output(metadata ?? {}), pulumi.output(specArgs)])
      .apply(([meta, spec]) => {
        const vm = buildVirtualMachineObject(
          name,
          meta as ObjectMetaArgs,
          spec as unknown as VirtualMachineSpecArgs,
        );
        assertValidVirtualMachine(vm);
        return vm;
      });
    const ignoreChanges = ignoreAutoscalerChanges ? [...AUTOSCALER_IGNORE_CHANGES] : [];
    if (pulumi.runtime.isDryRun()) {
      this.warnAboutChanges(previousObject, liveObjectReader ?? kubeconfigReader(), ignoreChanges);
    }

    const annotations = this.object.apply((vm) => ({
      ...vm.metadata?.annotations,
      ...(waitForRunning === false ? {} : { [WAIT_FOR_ANNOTATION]: WAIT_FOR_RUNNING }),
    }));
    this.resource = new k8s.apiextensions.CustomResource(
      `${name}-vm`,
      {
        apiVersion: API_VERSION,
        kind: VIRTUAL_MACHINE.kind,
        metadata: pulumi
          .all([this.object, annotations])
          .apply(([vm, a]) => ({ ...vm.metadata, annotations: a })),
        spec: this.object.spec,
        // Declared so the provider's status output is exposed on the resource.
        status: undefined,
      },
      { parent: this, ...(ignoreChanges.length > 0 ? { ignoreChanges } : {}) },
    );
    const status = (this.resource as unknown as WithStatus<VirtualMachineStatus>).status;
    this.phase = status.apply((s) => s?.phase);
    this.podName = status.apply((s) => s?.podName);
    this.node = status.apply((s) => s?.node);
    this.ip = status.apply((s) => s?.podIP);
    this.extraNetIp = status.apply((s) => s?.extraNetIP);
    this.registerOutputs({
      object: this.object,
      phase: this.phase,
      podName: this.podName,
      node: this.node,
      ip: this.ip,
      extraNetIp: this.extraNetIp,
    });
  }

  /** Preview only: which edits hot-plug live, which need a new runner pod, which will be rejected. */
  private warnAboutChanges(
    previous: VirtualMachineObject | undefined,
    reader: LiveObjectReader | false,
    ignoredPaths: readonly string[],
  ): void {
    this.object.apply(async (vm) => {
      const before =
        previous ??
        (reader
          ? await reader.readVirtualMachine(vm.metadata?.namespace ?? 'default', vm.metadata?.name ?? '')
          : undefined);
      const warning = before ? virtualMachineChangeWarning(before, vm, ignoredPaths) : undefined;
      if (warning) await pulumi.log.warn(warning, this);
    });
  }
}
