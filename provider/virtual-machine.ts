/**
 * `neonvm:index:VirtualMachine`: a NeonVM VirtualMachine as a Pulumi component. The object is built
 * and validated by the same code as the cdk8s construct; the child is a `kubernetes` CustomResource
 * whose status feeds the outputs.
 *
 * Invalid args fail with one `pulumi.ResourceError` naming this component and every bad field: thrown
 * from the constructor when the args hold no Outputs (the usual case: nothing is registered after it),
 * otherwise from the one Output the child is built from.
 */
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import {
  API_VERSION,
  VIRTUAL_MACHINE,
  validateVirtualMachine,
  formatFieldErrors,
  type VirtualMachine as VirtualMachineObject,
  type VirtualMachineStatus,
} from '../crds';
import { isPlainValue, type DeepInput, type Inputs, type ObjectMetaArgs } from './inputs';
import { buildVirtualMachineObject, type VirtualMachineSpecArgs } from './virtual-machine-object';
import { virtualMachineChangeWarning } from './change-warnings';
import {
  LiveReaderUnavailable,
  kubeconfigReader,
  providerKubeconfig,
  type LiveObjectReader,
} from './live-object-reader';
import {
  AUTOSCALER_IGNORE_CHANGES,
  TIMEOUT_ANNOTATION,
  WAIT_FOR_ANNOTATION,
  WAIT_FOR_RUNNING,
} from './resource-options';

/** Arguments of `VirtualMachine`: the construct's props (sizes as quantity strings), any of them Outputs. */
export interface VirtualMachineArgs extends Inputs<VirtualMachineSpecArgs> {
  /**
   * Name, namespace, labels and annotations of the VirtualMachine.
   * @default - named after the component, in the provider's namespace
   */
  readonly metadata?: DeepInput<ObjectMetaArgs>;
  /**
   * Make `pulumi up` wait until the VM is Running (`pulumi.com/waitFor` annotation).
   * @default true
   */
  readonly waitForRunning?: boolean;
  /**
   * How long `pulumi up` waits for the VM (`pulumi.com/timeoutSeconds`), in seconds.
   * @default - the Kubernetes provider's default (10 minutes)
   */
  readonly timeoutSeconds?: number;
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
   * How the live object is read for the change report; `false` to skip.
   * @default - the cluster of this component's Kubernetes provider
   */
  readonly liveObjectReader?: LiveObjectReader | false;
}

/** A type view of the CustomResource's `status` output (CustomResource only types the envelope). */
interface WithStatus<S> {
  readonly status: pulumi.Output<S | undefined>;
}

/** The validated object, or why it is invalid. */
interface Checked {
  readonly vm?: VirtualMachineObject;
  readonly error?: Error;
}

function orThrow(c: Checked): VirtualMachineObject {
  if (c.error || !c.vm) throw c.error ?? new Error('no object');
  return c.vm;
}

/** Builds and validates; a ResourceError names the component and every failing field. */
function validObject(
  component: pulumi.Resource,
  name: string,
  metadata: ObjectMetaArgs,
  spec: VirtualMachineSpecArgs,
): VirtualMachineObject {
  const vm = buildVirtualMachineObject(name, metadata, spec);
  const errors = validateVirtualMachine(vm);
  if (errors.length > 0)
    throw new pulumi.ResourceError(
      `VirtualMachine ${vm.metadata?.name ?? name} is invalid:\n${formatFieldErrors(errors)}`,
      component,
      true,
    );
  return vm;
}

/**
 * A NeonVM VirtualMachine: a QEMU guest in a runner pod, whose CPUs and memory hot-plug live.
 *
 * ```ts
 * const vm = new VirtualMachine('pg', {
 *   cpus: { min: 0.25, max: 4, use: 1 },
 *   memory: { slotSize: '1Gi', min: 1, max: 8, use: 2 },
 *   rootDisk: { image: 'vm-postgres:15-bullseye', size: '8Gi' },
 *   ignoreAutoscalerChanges: true,
 * });
 * export const ip = vm.ip;
 * ```
 *
 * Pass it where a VM is meant (`VirtualMachineMigration`'s `vm`): that creates the dependency.
 */
export class VirtualMachine extends pulumi.ComponentResource {
  /** The object as sent (after the component's own validation). */
  public readonly object: pulumi.Output<VirtualMachineObject>;
  /** The child `kubernetes` CustomResource (`<name>-vm`). */
  public readonly resource: k8s.apiextensions.CustomResource;
  /** `metadata.name` of the VirtualMachine (also the `vm.neon.tech/name` label of its runner pod). */
  public readonly name: pulumi.Output<string>;
  /** `metadata.namespace`, as the API server set it. */
  public readonly namespace: pulumi.Output<string>;
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
      timeoutSeconds,
      ignoreAutoscalerChanges,
      previousObject,
      liveObjectReader,
      ...specArgs
    } = args;
    // Built and validated once; an invalid object fails the child's registration and nothing else
    // (the other inputs and the component's outputs do not re-throw it, so it is reported once).
    const checked: pulumi.Output<Checked> =
      isPlainValue(metadata) && isPlainValue(specArgs)
        ? pulumi.output({
            vm: validObject(
              this,
              name,
              (metadata ?? {}) as ObjectMetaArgs,
              specArgs as VirtualMachineSpecArgs,
            ),
          })
        : pulumi.output({ metadata: metadata ?? {}, spec: specArgs }).apply(({ metadata: m, spec }) => {
            try {
              return {
                vm: validObject(this, name, m as ObjectMetaArgs, spec as unknown as VirtualMachineSpecArgs),
              };
            } catch (error) {
              return { error: error as Error };
            }
          });
    this.object = checked.apply(orThrow);
    const ignoreChanges = ignoreAutoscalerChanges ? [...AUTOSCALER_IGNORE_CHANGES] : [];
    const changeReport =
      pulumi.runtime.isDryRun() && (previousObject || liveObjectReader !== false)
        ? this.reportChanges(checked, previousObject, liveObjectReader || undefined, ignoreChanges)
        : undefined;

    this.resource = new k8s.apiextensions.CustomResource(
      `${name}-vm`,
      {
        apiVersion: API_VERSION,
        kind: VIRTUAL_MACHINE.kind,
        metadata: checked.apply(orThrow).apply((vm) => ({
          ...vm.metadata,
          annotations: {
            ...vm.metadata?.annotations,
            ...(waitForRunning === false ? {} : { [WAIT_FOR_ANNOTATION]: WAIT_FOR_RUNNING }),
            ...(timeoutSeconds !== undefined ? { [TIMEOUT_ANNOTATION]: String(timeoutSeconds) } : {}),
          },
        })),
        spec: checked.apply((c) => c.vm?.spec ?? {}),
        // Declared so the provider's status output is exposed on the resource.
        status: undefined,
      },
      { parent: this, ...(ignoreChanges.length > 0 ? { ignoreChanges } : {}) },
    );
    this.name = this.resource.metadata.name;
    this.namespace = this.resource.metadata.namespace;
    const status = (this.resource as unknown as WithStatus<VirtualMachineStatus>).status;
    this.phase = status.apply((s) => s?.phase);
    this.podName = status.apply((s) => s?.podName);
    this.node = status.apply((s) => s?.node);
    this.ip = status.apply((s) => s?.podIP);
    this.extraNetIp = status.apply((s) => s?.extraNetIP);
    // The outputs above are read from the child; registering them again would report a failed
    // child once more for each of them. The change report is registered so that the preview waits
    // for it (an apply nothing depends on may still be running when the program ends).
    this.registerOutputs(changeReport ? { changeReport } : {});
  }

  /** Preview only: which edits hot-plug live, which need a new runner pod, which will be rejected. */
  private reportChanges(
    checked: pulumi.Output<Checked>,
    previous: VirtualMachineObject | undefined,
    reader: LiveObjectReader | undefined,
    ignoredPaths: readonly string[],
  ): pulumi.Output<string | undefined> {
    return pulumi.all([checked, providerKubeconfig(this)]).apply(async ([{ vm }, source]) => {
      if (!vm) return undefined; // invalid: its one error is reported by the child
      let before = previous;
      if (!before) {
        try {
          before = await (reader ?? kubeconfigReader(source)).readVirtualMachine(
            vm.metadata?.namespace ?? 'default',
            vm.metadata?.name ?? '',
          );
        } catch (err) {
          if (err instanceof LiveReaderUnavailable) await pulumi.log.info(err.message, this);
          return undefined;
        }
      }
      const warning = before ? virtualMachineChangeWarning(before, vm, ignoredPaths) : undefined;
      if (warning) await pulumi.log.warn(warning, this);
      return warning;
    });
  }
}
